"""A managed identity endpoint on loopback, so the real ``DefaultAzureCredential`` works offline.

On App Service and Azure Functions, the platform runs a token endpoint on the machine and
sets ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``; azure-identity's
``ManagedIdentityCredential`` (one link of ``DefaultAzureCredential``'s chain) asks it for
tokens. This is such an endpoint, handing out one token. With its two variables set, the
unmodified ``DefaultAzureCredential`` gets that token with no network, the SDK sends it as
``Authorization: Bearer <token>``, and an ``Emulator(bearer_tokens=[token])`` accepts it:
the same code path as an app signed in with Entra ID in Azure.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web

# The variables that would make an earlier link of DefaultAzureCredential's chain answer
# (or leave managed identity out of it): a test unsets them.
COMPETING_VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_TENANT_ID",
    "AZURE_USERNAME",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IMDS_ENDPOINT",
    "IDENTITY_SERVER_THUMBPRINT",
)


@dataclass(frozen=True)
class TokenRequest:
    resource: str
    """What the token is for: the SDK's scope without ``/.default``."""
    header: str | None
    """The ``X-IDENTITY-HEADER`` the credential sent (the platform's shared secret)."""


@dataclass
class ManagedIdentityEndpoint:
    """``async with ManagedIdentityEndpoint() as identity:`` then set ``identity.environment``."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    requests: list[TokenRequest] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What App Service sets for a process that has a managed identity."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.secret}

    async def __aenter__(self) -> ManagedIdentityEndpoint:
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/msi/token"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        header = request.headers.get("X-IDENTITY-HEADER")
        self.requests.append(TokenRequest(request.query.get("resource", ""), header))
        if header != self.secret:
            return web.json_response({"error": "the identity header is wrong"}, status=401)
        return web.json_response(
            {
                "access_token": self.token,
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query.get("resource"),
                "token_type": "Bearer",
            }
        )
