"""Token store: which access tokens are live. A token absent here is rejected.

One live token per client: ``issue`` makes the new ``jti`` the client's only live token, which is
how re-issuing and refreshing kill the previous token at once.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any


class TokenStore(ABC):
    """Live access tokens keyed by ``jti``, with expiry."""

    @abstractmethod
    async def issue(self, client_id: str, jti: str, ttl_seconds: float) -> None:
        """Make ``jti`` the client's live token, revoking the one it had."""

    @abstractmethod
    async def is_live(self, jti: str) -> bool:
        """True while the token has been issued, not revoked, and not expired."""

    @abstractmethod
    async def revoke(self, jti: str) -> None:
        """Kill the token now (no-op when unknown)."""

    @abstractmethod
    async def revoke_client(self, client_id: str) -> None:
        """Kill the client's live token, if any (the client was disabled or removed)."""

    async def close(self) -> None:
        """Release resources."""


class InMemoryTokenStore(TokenStore):
    """Process-local TTL map; expired entries are purged lazily and on every issue."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._owner: dict[str, str] = {}
        self._current: dict[str, str] = {}

    def _purge(self) -> None:
        now = self._clock()
        for jti in [j for j, exp in self._expiry.items() if exp <= now]:
            self._forget(jti)

    def _forget(self, jti: str) -> None:
        self._expiry.pop(jti, None)
        owner = self._owner.pop(jti, None)
        if owner is not None and self._current.get(owner) == jti:
            del self._current[owner]

    async def issue(self, client_id: str, jti: str, ttl_seconds: float) -> None:
        """Replace the client's live token."""
        self._purge()
        previous = self._current.get(client_id)
        if previous is not None:
            self._forget(previous)
        self._expiry[jti] = self._clock() + ttl_seconds
        self._owner[jti] = client_id
        self._current[client_id] = jti

    async def is_live(self, jti: str) -> bool:
        """Check presence and expiry."""
        expiry = self._expiry.get(jti)
        if expiry is None:
            return False
        if expiry <= self._clock():
            self._forget(jti)
            return False
        return True

    async def revoke(self, jti: str) -> None:
        """Forget the token."""
        self._forget(jti)

    async def revoke_client(self, client_id: str) -> None:
        """Forget the client's current token."""
        current = self._current.get(client_id)
        if current is not None:
            self._forget(current)


_ISSUE_LUA = """
local previous = redis.call('GET', KEYS[1])
if previous then redis.call('DEL', ARGV[3] .. previous) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', ARGV[3] .. ARGV[1], ARGV[4], 'PX', ARGV[2])
return 1
"""

_REVOKE_CLIENT_LUA = """
local current = redis.call('GET', KEYS[1])
if current then redis.call('DEL', ARGV[1] .. current) end
redis.call('DEL', KEYS[1])
return 1
"""


class RedisTokenStore(TokenStore):
    """Shared by every API process; Redis TTLs expire tokens, a Lua script keeps issue atomic."""

    def __init__(self, redis: Any, prefix: str = "csms:token:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._issue = redis.register_script(_ISSUE_LUA)
        self._revoke_client = redis.register_script(_REVOKE_CLIENT_LUA)

    async def issue(self, client_id: str, jti: str, ttl_seconds: float) -> None:
        """Atomically replace the client's live token."""
        await self._issue(
            keys=[f"{self._prefix}client:{client_id}"],
            args=[jti, max(1, int(ttl_seconds * 1000)), f"{self._prefix}jti:", client_id],
        )

    async def is_live(self, jti: str) -> bool:
        """One EXISTS round trip."""
        return bool(await self._redis.exists(f"{self._prefix}jti:{jti}"))

    async def revoke(self, jti: str) -> None:
        """Delete the token key."""
        await self._redis.delete(f"{self._prefix}jti:{jti}")

    async def revoke_client(self, client_id: str) -> None:
        """Atomically delete the client's live token and its pointer."""
        await self._revoke_client(
            keys=[f"{self._prefix}client:{client_id}"], args=[f"{self._prefix}jti:"]
        )
