"""Token endpoint bodies (client credentials grant, JSON flavour)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from management_api.schemas.common import RequestBody, ResponseModel


class TokenRequest(RequestBody):
    """Client credentials as issued by an admin (or the bootstrap admin's from the env)."""

    client_id: str = Field(min_length=1, max_length=100)
    client_secret: str = Field(min_length=1, max_length=200)


class TokenResponse(ResponseModel):
    """A bearer token; it dies after ``expires_in`` seconds, on refresh, revoke or re-issue."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int = Field(description="Seconds until the token expires.")
