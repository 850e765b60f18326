"""Who the caller is: client credentials, short-lived access tokens, and the bootstrap admin.

An access token is an HS256 JWT (the algorithm is pinned on both sides) carrying the client id,
its role and its partner, plus a random ``jti``. Signature and expiry alone are not enough: the
``jti`` must also be live in the token store, which holds at most one token per client. That is
what makes refresh, revoke and re-issue take effect at once, on every API process sharing Redis.
Expiry is checked against the injected clock, so tests can move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.exc import IntegrityError

from config.logging import get_logger
from core.clock import Clock
from core.domain.enums import ApiRole
from core.errors import ConflictError, DomainError
from core.repositories.catalog import ApiClientRecord, ApiClientRepository
from core.security import hash_secret, verify_secret
from core.tokens import TokenStore
from core.uow import UnitOfWork

log = get_logger("auth")

UowFactory = Callable[[], UnitOfWork]

#: The only algorithm tokens are signed and accepted with ("none" or RS/HS confusion is refused).
ALGORITHM = "HS256"
ISSUER = "evcsms"
AUDIENCE = "evcsms-management-api"
_REQUIRED_CLAIMS = ("exp", "iat", "jti", "sub", "iss", "aud", "role")


class AuthenticationError(DomainError):
    """The caller could not be identified: no, bad, expired or revoked token, or bad credentials."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    client_id: str
    role: ApiRole
    partner_id: uuid.UUID | None
    jti: str
    expires_at: datetime

    @property
    def is_admin(self) -> bool:
        """Admins see every partner's resources."""
        return self.role is ApiRole.ADMIN

    @property
    def scope(self) -> uuid.UUID | None:
        """The partner whose resources the caller may touch; None for an admin (all of them)."""
        return None if self.is_admin else self.partner_id


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token as handed to the client."""

    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


class TokenService:
    """Issues, checks, refreshes and revokes access tokens."""

    def __init__(self, *, secret: str, ttl_seconds: int, store: TokenStore, clock: Clock) -> None:
        if not secret:
            raise ValueError("the token signing secret must not be empty")
        self._secret = secret
        self._ttl = ttl_seconds
        self._store = store
        self._clock = clock

    @property
    def ttl_seconds(self) -> int:
        """Lifetime of every token issued."""
        return self._ttl

    async def login(self, *, uow: UowFactory, client_id: str, client_secret: str) -> IssuedToken:
        """Exchange client credentials for a token, killing the client's previous token."""
        async with uow() as unit:
            credentials = await ApiClientRepository(unit.session).credentials(client_id)
        # argon2 is deliberately slow: keep it off the event loop. An unknown client costs the
        # same as a wrong secret (verify_secret hashes against a dummy).
        secret_hash = None if credentials is None else credentials.secret_hash
        valid = await asyncio.to_thread(verify_secret, secret_hash, client_secret)
        if (
            not valid
            or credentials is None
            or credentials.client.disabled_at is not None
            or credentials.partner_disabled_at is not None
        ):
            log.info("token_refused", client_id=client_id)
            raise AuthenticationError("invalid client credentials")
        token = await self._issue(credentials.client)
        log.info("token_issued", client_id=client_id, role=credentials.client.role)
        return token

    async def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for, or ``AuthenticationError``."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": list(_REQUIRED_CLAIMS), "verify_exp": False},
            )
            principal = _principal(claims)
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise AuthenticationError("invalid token") from exc
        if principal.expires_at <= self._clock.now():
            raise AuthenticationError("token expired")
        if not await self._store.is_live(principal.jti):
            raise AuthenticationError("token revoked or replaced")
        return principal

    async def refresh(self, *, uow: UowFactory, principal: Principal) -> IssuedToken:
        """A new token for the same client; the presented one dies with the issue."""
        async with uow() as unit:
            credentials = await ApiClientRepository(unit.session).credentials(principal.client_id)
        if (
            credentials is None
            or credentials.client.disabled_at is not None
            or credentials.partner_disabled_at is not None
        ):
            await self._store.revoke(principal.jti)
            raise AuthenticationError("client disabled or removed")
        token = await self._issue(credentials.client)
        log.info("token_refreshed", client_id=principal.client_id)
        return token

    async def revoke(self, principal: Principal) -> None:
        """Kill the presented token now."""
        await self._store.revoke(principal.jti)
        log.info("token_revoked", client_id=principal.client_id)

    async def kill_client_tokens(self, client_ids: Iterable[str]) -> None:
        """Make sure the clients hold no live token (they were disabled or removed)."""
        for client_id in client_ids:
            await self._store.revoke_client(client_id)

    async def _issue(self, client: ApiClientRecord) -> IssuedToken:
        now = self._clock.now()
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client.client_id,
            "role": client.role,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self._ttl)).timestamp()),
        }
        if client.partner_id is not None:
            claims["pid"] = str(client.partner_id)
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        await self._store.issue(client.client_id, jti, self._ttl)
        return IssuedToken(access_token=token, expires_in=self._ttl)


def _principal(claims: dict[str, Any]) -> Principal:
    role = ApiRole(claims["role"])
    raw_partner = claims.get("pid")
    partner_id = None if raw_partner is None else uuid.UUID(str(raw_partner))
    if (role is ApiRole.ADMIN) != (partner_id is None):
        raise ValueError("role and partner do not match")
    subject, jti, exp = claims["sub"], claims["jti"], claims["exp"]
    if not isinstance(subject, str) or not isinstance(jti, str) or not isinstance(exp, int):
        raise TypeError("malformed claims")
    return Principal(
        client_id=subject,
        role=role,
        partner_id=partner_id,
        jti=jti,
        expires_at=datetime.fromtimestamp(exp, UTC),
    )


def signing_secret(configured: str | None) -> str:
    """The configured JWT secret, or a random one for this process (tokens then die with it
    and are not accepted by other API processes, so a warning says so)."""
    if configured:
        return configured
    log.warning(
        "jwt_secret_generated",
        reason="JWT_SECRET is not set; tokens are valid on this process only until it stops",
    )
    return secrets.token_urlsafe(48)


async def ensure_admin_client(*, uow: UowFactory, client_id: str, client_secret: str) -> None:
    """Create the bootstrap admin client, or bring its secret up to date.

    Refuses (``ConflictError``) when the id already names a partner's client: promoting it
    silently to admin would hand that partner every other partner's data.
    """
    for attempt in (1, 2):
        try:
            async with uow() as unit:
                repo = ApiClientRepository(unit.session)
                existing = await repo.credentials(client_id)
                if existing is None:
                    secret_hash = await asyncio.to_thread(hash_secret, client_secret)
                    await repo.add(
                        client_id=client_id,
                        secret_hash=secret_hash,
                        role=ApiRole.ADMIN.value,
                        partner_id=None,
                    )
                    await unit.commit()
                    log.info("admin_client_created", client_id=client_id)
                    return
                if existing.client.role != ApiRole.ADMIN.value:
                    raise ConflictError(
                        f"ADMIN_CLIENT_ID {client_id!r} is the id of a partner's API client"
                    )
                current = await asyncio.to_thread(
                    verify_secret, existing.secret_hash, client_secret
                )
                if current and existing.client.disabled_at is None:
                    return
                secret_hash = await asyncio.to_thread(hash_secret, client_secret)
                await repo.set_secret(client_id, secret_hash)
                await unit.commit()
                log.info("admin_client_updated", client_id=client_id)
                return
        except IntegrityError:
            # Another API process created it at the same moment: read it again.
            if attempt == 2:
                raise
