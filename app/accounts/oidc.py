"""The OpenID Connect round trip, with Authlib's Starlette client: discovery, the authorization
code flow with PKCE (S256), and the checks of state, nonce and ID token.

Where the flow's state lives: Authlib keeps what it needs between the redirect and the
callback (state, nonce, PKCE verifier, redirect URI) in `request.session`. This app has no
server-side use for a general session (its sign-in sessions are rows in the database), so
instead of Starlette's SessionMiddleware, which would add a second session cookie to every
response of the site, that data goes into a cookie of its own: signed with the app secret
(itsdangerous), sent only to `/auth/oidc/`, HttpOnly, SameSite=Lax (the provider's redirect
back is a top-level GET, which Lax allows), valid for ten minutes, and deleted by the
callback whatever its outcome. A callback therefore works once per started flow in that
browser; a replayed callback finds no flow, and a replayed cookie meets the provider's
single-use code. Its contents are readable by the browser that holds them, which is safe:
they only prove anything together with that same browser's authorization code.

After a first sign-in the proven provider account waits in a second signed cookie (thirty
minutes, same scope) while the person picks a username.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.responses import Response

from app.accounts.identities import ProviderAccount
from app.config import OIDCProvider, Settings
from app.errors import NotFound
from app.i18n import gettext as _


# Authlib, httpx and joserfc (with cryptography) are imported on the first sign-in with a
# provider, not by every worker at start: about 20 MB that most requests never use.
@functools.cache
def _http_errors() -> tuple[type[Exception], ...]:
    """httpx's errors; Authlib talks HTTP through httpx2 where it is installed, else httpx."""
    import httpx

    try:
        import httpx2
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


def _unreachable() -> tuple[type[Exception], ...]:
    """Discovery failing: the provider down, or its answer not JSON."""
    return (*_http_errors(), ValueError)


def _refused() -> tuple[type[Exception], ...]:
    """The round trip refused or failing."""
    from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
    from joserfc.errors import JoseError

    return (OAuthError, JoseError, *_http_errors())


COOKIE_PATH = "/auth/oidc/"
FLOW_SECONDS = 10 * 60
SIGNUP_SECONDS = 30 * 60
SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 10.0


class FlowFailed(Exception):
    """The provider's answer cannot sign anyone in; `message` says why, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Flow:
    """What the browser set out to do when it left for the provider."""

    provider: str
    #: The signed-in user who asked to link a provider account, or None for a sign-in.
    link_user_id: int | None
    next: str


def configured(settings: Settings) -> list[OIDCProvider]:
    return list(settings.oidc_providers)


def provider_named(settings: Settings, name: str) -> OIDCProvider:
    for provider in settings.oidc_providers:
        if provider.name == name:
            return provider
    raise NotFound(_("This site offers no sign-in with that provider."))


def _cookie_name(settings: Settings, base: str) -> str:
    # `__Host-` would demand Path=/; `__Secure-` still pins the cookie to https.
    return f"__Secure-{base}" if settings.is_https else base


def flow_cookie(settings: Settings) -> str:
    return _cookie_name(settings, "nf_oidc_flow")


def signup_cookie(settings: Settings) -> str:
    return _cookie_name(settings, "nf_oidc_signup")


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret, salt=f"oidc-{purpose}")


def _set_cookie(response: Response, settings: Settings, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
    )


def forget(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=settings.is_https
    )


def redirect_uri(settings: Settings, provider: OIDCProvider) -> str:
    # From the configured public address, which is what the provider has registered.
    return f"{settings.base_url.rstrip('/')}/auth/oidc/{provider.name}/callback"


def _client(request: Request, provider: OIDCProvider) -> Any:
    """Authlib's client for `provider`; one registry per app, built on first use."""
    settings: Settings = request.app.state.settings
    registry: Any = getattr(request.app.state, "oidc_registry", None)
    if registry is None:
        from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]

        registry = OAuth()
        for each in settings.oidc_providers:
            registry.register(
                each.name,
                client_id=each.client_id,
                client_secret=each.client_secret.get_secret_value(),
                server_metadata_url=each.metadata_url,
                client_kwargs={
                    "scope": SCOPE,
                    "code_challenge_method": "S256",
                    "token_endpoint_auth_method": "client_secret_basic",
                    "timeout": HTTP_TIMEOUT_SECONDS,
                },
            )
        request.app.state.oidc_registry = registry
    return registry.create_client(provider.name)


async def _discover(client: Any, provider: OIDCProvider) -> dict[str, Any]:
    """The provider's metadata, which must name the configured issuer (OIDC Discovery 4.3)."""
    try:
        metadata: dict[str, Any] = await client.load_server_metadata()
    except _unreachable() as exc:
        raise FlowFailed(
            _(
                "%(provider)s could not be reached. Please try again later.",
                provider=provider.display_name,
            )
        ) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise FlowFailed(
            _(
                "%(provider)s is not set up correctly on this site (its issuer does not match). "
                "Please tell the site's administrators.",
                provider=provider.display_name,
            )
        )
    return metadata


async def start(
    request: Request, provider: OIDCProvider, *, link_user_id: int | None, next: str
) -> Response:
    """Redirect to the provider's authorization endpoint, remembering the flow in a cookie."""
    settings: Settings = request.app.state.settings
    client = _client(request, provider)
    await _discover(client, provider)
    # Authlib writes state, nonce and the PKCE verifier into this dict (see the module doc).
    request.scope["session"] = {}
    try:
        response: Response = await client.authorize_redirect(
            request, redirect_uri(settings, provider)
        )
    except _refused() as exc:
        raise FlowFailed(
            _(
                "%(provider)s could not be reached. Please try again later.",
                provider=provider.display_name,
            )
        ) from exc
    payload = {
        "provider": provider.name,
        "authlib": request.scope["session"],
        "link": link_user_id,
        "next": next,
    }
    value = _serializer(settings, "flow").dumps(payload)
    _set_cookie(response, settings, flow_cookie(settings), value, FLOW_SECONDS)
    return response


def _refusal(provider: OIDCProvider, exc: Exception) -> str:
    name = provider.display_name
    error = str(getattr(exc, "error", "") or "")
    if error == "mismatching_state":
        return _(
            "The answer from %(provider)s does not belong to the sign-in this browser started "
            "(its state does not match). Nothing was changed; please start again.",
            provider=name,
        )
    if error == "access_denied":
        # The provider's words, shortened: a forged callback could carry any text.
        detail = str(getattr(exc, "description", "") or "")[:160].rstrip(".")
        if detail:
            return _(
                "%(provider)s did not sign you in: %(detail)s. Nothing was changed.",
                provider=name,
                detail=detail,
            )
        return _("%(provider)s did not sign you in. Nothing was changed.", provider=name)
    if error == "invalid_grant":
        return _(
            "%(provider)s refused this sign-in: its code was used already or has expired. "
            "Nothing was changed; please start again.",
            provider=name,
        )
    from joserfc.errors import JoseError

    if isinstance(exc, JoseError):
        return _(
            "The identity token from %(provider)s failed its checks. Nothing was changed.",
            provider=name,
        )
    if isinstance(exc, _http_errors()):
        return _("%(provider)s could not be reached. Please try again later.", provider=name)
    if error:
        return _(
            "%(provider)s did not complete the sign-in (%(error)s). Please start again.",
            provider=name,
            error=error,
        )
    return _(
        "%(provider)s did not complete the sign-in (an invalid answer). Please start again.",
        provider=name,
    )


def _read_flow(request: Request, provider: OIDCProvider) -> tuple[Flow, dict[str, Any]]:
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(flow_cookie(settings))
    if not raw:
        raise FlowFailed(
            _(
                "This answer from %(provider)s does not belong to a sign-in started in this "
                "browser, or that sign-in was finished already. Nothing was changed; please start "
                "again.",
                provider=provider.display_name,
            )
        )
    try:
        payload = _serializer(settings, "flow").loads(raw, max_age=FLOW_SECONDS)
    except SignatureExpired:
        raise FlowFailed(_("The sign-in took too long and expired. Please start again.")) from None
    except BadSignature:
        raise FlowFailed(_("The sign-in could not be checked. Please start again.")) from None
    if not isinstance(payload, dict) or payload.get("provider") != provider.name:
        raise FlowFailed(
            _(
                "This answer from %(provider)s does not belong to the sign-in this browser "
                "started. Nothing was changed; please start again.",
                provider=provider.display_name,
            )
        )
    link = payload.get("link")
    flow = Flow(
        provider=provider.name,
        link_user_id=link if isinstance(link, int) else None,
        next=str(payload.get("next") or ""),
    )
    state = payload.get("authlib")
    return flow, state if isinstance(state, dict) else {}


async def finish(request: Request, provider: OIDCProvider) -> tuple[Flow, ProviderAccount]:
    """Check the provider's answer to this browser's flow; who the provider says this is.

    Authlib checks the state against the flow's, exchanges the code with the PKCE verifier
    (client authenticated by its secret), and validates the ID token: signature against the
    provider's published keys, issuer, audience, expiry and nonce.
    """
    flow, state = _read_flow(request, provider)
    client = _client(request, provider)
    await _discover(client, provider)
    request.scope["session"] = state
    try:
        token = await client.authorize_access_token(request)
        claims = token.get("userinfo")
        if not claims or not claims.get("sub"):
            raise FlowFailed(
                _(
                    "%(provider)s sent no identity token, so nobody was signed in.",
                    provider=provider.display_name,
                )
            )
        info = await client.userinfo(token=token)
    except _refused() as exc:
        raise FlowFailed(_refusal(provider, exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowFailed(_refusal(provider, exc)) from exc
    subject, issuer = str(claims["sub"]), str(claims["iss"])
    # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
    if str(info.get("sub", "")) != subject:
        raise FlowFailed(
            _(
                "%(provider)s described someone else. Nothing was changed.",
                provider=provider.display_name,
            )
        )
    # The core spec caps a subject at 255 ASCII characters; so do the identity's columns.
    if len(subject) > 255 or len(issuer) > 255:
        raise FlowFailed(
            _("%(provider)s sent an identifier too long to keep.", provider=provider.display_name)
        )
    return flow, ProviderAccount(
        provider=provider.name,
        issuer=issuer,
        subject=subject,
        email=str(info.get("email") or ""),
        email_verified=info.get("email_verified") is True,
        name=str(info.get("name") or info.get("nickname") or ""),
        preferred_username=str(info.get("preferred_username") or ""),
    )


def remember_signup(response: Response, settings: Settings, account: ProviderAccount) -> None:
    """Keep the proven provider account while the person picks a username."""
    value = _serializer(settings, "signup").dumps(account.__dict__)
    _set_cookie(response, settings, signup_cookie(settings), value, SIGNUP_SECONDS)


def pending_signup(request: Request) -> ProviderAccount | None:
    """The provider account waiting for its new account in this browser, if any."""
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(signup_cookie(settings))
    if not raw:
        return None
    try:
        data = _serializer(settings, "signup").loads(raw, max_age=SIGNUP_SECONDS)
        account = ProviderAccount(**data)
    except (BadSignature, TypeError):
        return None
    # A provider taken off the site since cannot finish a sign-up.
    if all(p.name != account.provider for p in settings.oidc_providers):
        return None
    return account
