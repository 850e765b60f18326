"""Password hashing for API client secrets and OCPP basic-auth passwords (argon2id).

Verification is constant-time inside argon2; a missing hash is compared against a dummy hash so
that an unknown client id costs the same time as a wrong secret.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Interactive-login parameters are too slow for chargers reconnecting in a storm; these keep
# one verification near a millisecond while staying memory-hard.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_secret(secret: str) -> str:
    """Hash a secret for storage."""
    return _HASHER.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``secret_hash``; False for a missing or corrupt hash."""
    try:
        return _HASHER.verify(secret_hash or _DUMMY_HASH, secret) and secret_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(nbytes: int = 24) -> str:
    """A random URL-safe secret to hand out once."""
    return secrets.token_urlsafe(nbytes)
