"""Token-bucket rate limiting per API client, in process or shared through Redis."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any


class RateLimiter(ABC):
    """``acquire`` returns 0 when the request may go, else seconds until it could."""

    def __init__(self, rate_per_second: float, burst: int) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate_per_second
        self.burst = burst

    @abstractmethod
    async def acquire(self, key: str) -> float:
        """Take one token from ``key``'s bucket."""

    async def close(self) -> None:
        """Release resources."""


class InMemoryRateLimiter(RateLimiter):
    """Buckets in a dict; good for one process."""

    def __init__(self, rate_per_second: float, burst: int, clock: Any = time.monotonic) -> None:
        super().__init__(rate_per_second, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, key: str) -> float:
        """Refill by elapsed time, then take a token if there is one."""
        now: float = self._clock()
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


_ACQUIRE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimiter(RateLimiter):
    """One bucket per key in Redis, updated atomically by a script using Redis' own clock."""

    def __init__(
        self, redis: Any, rate_per_second: float, burst: int, prefix: str = "csms:rl:"
    ) -> None:
        super().__init__(rate_per_second, burst)
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_ACQUIRE_LUA)

    async def acquire(self, key: str) -> float:
        """One script call per request."""
        wait = await self._script(keys=[f"{self._prefix}{key}"], args=[self.rate, self.burst])
        text = wait.decode() if isinstance(wait, bytes) else str(wait)
        return float(text)
