"""Token endpoints: client credentials in, short-lived bearer token out; refresh and revoke."""

from __future__ import annotations

import math

from aiohttp import web

from management_api.endpoints import (
    ANY_ROLE,
    operation,
    principal_of,
    resources_of,
    uow_of,
)
from management_api.keys import TOKENS
from management_api.problems import HttpProblem
from management_api.schemas.auth import TokenRequest, TokenResponse


@operation(tag="auth", roles=None, body=TokenRequest, response=TokenResponse, errors={401, 429})
async def issue_token(request: web.Request, body: TokenRequest) -> TokenResponse:
    """Get an access token with client credentials.

    Issuing a token kills the client's previous one. Attempts are rate-limited per client_id.
    """
    wait = await resources_of(request).rate_limiter.acquire(f"token:{body.client_id}")
    if wait > 0:
        raise HttpProblem(
            429,
            "too many token requests for this client; retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    token = await request.app[TOKENS].login(
        uow=uow_of(request), client_id=body.client_id, client_secret=body.client_secret
    )
    return TokenResponse(access_token=token.access_token, expires_in=token.expires_in)


@operation(tag="auth", roles=ANY_ROLE, response=TokenResponse)
async def refresh_token(request: web.Request) -> TokenResponse:
    """Swap the presented token for a new one; the presented one is dead from now on."""
    token = await request.app[TOKENS].refresh(uow=uow_of(request), principal=principal_of(request))
    return TokenResponse(access_token=token.access_token, expires_in=token.expires_in)


@operation(tag="auth", roles=ANY_ROLE, status=204)
async def revoke_token(request: web.Request) -> None:
    """Kill the presented token now."""
    await request.app[TOKENS].revoke(principal_of(request))
