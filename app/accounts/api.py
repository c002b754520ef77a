"""JSON API of accounts: who am I, my linked provider accounts, my address's confirmation.

Signing in with a provider, resetting a password and confirming an address are browser flows
and have no API of their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import JSONResponse, Response

from app.accounts import email_links, identities, oidc, service
from app.accounts.models import Identity
from app.accounts.schemas import (
    IdentityOut,
    LanguageIn,
    MembershipOfUser,
    MeOut,
    UserOut,
    VerificationMailOut,
)
from app.communities import service as communities_service
from app.config import Settings
from app.db import utcnow
from app.privacy import deletion
from app.privacy import export as member_export
from app.privacy.schemas import DeletionIn, DeletionOut, MemberExportOut
from app.web.api import COMMON_ERRORS, MAX_ID, error_responses
from app.web.auth import current_auth
from app.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(tags=["accounts"], responses=COMMON_ERRORS)

IdentityId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _identity_out(identity: Identity, settings: Settings) -> IdentityOut:
    names = {p.name: p.display_name for p in oidc.configured(settings)}
    return IdentityOut(
        id=identity.id,
        provider=identity.provider,
        provider_name=names.get(identity.provider, identity.provider),
        issuer=identity.issuer,
        email=identity.email,
        linked_at=identity.created_at,
        last_used_at=identity.last_used_at,
    )


@router.get("/me", response_model=MeOut, summary="The current user, with memberships and roles")
def me(request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser) -> MeOut:
    memberships = [
        MembershipOfUser(
            community=m.community.slug,
            community_name=m.community.name,
            role=m.role.value,
            joined_at=m.joined_at,
        )
        for m in communities_service.memberships_of_user(db, user)
    ]
    return MeOut(
        **UserOut.model_validate(user).model_dump(),
        email=user.email,
        email_verified=user.email_verified,
        language=user.locale,
        has_password=user.has_password,
        authenticated_by=current_auth(request).via,
        memberships=memberships,
        identities=[_identity_out(i, settings) for i in identities.list_for(db, actor=user)],
    )


@router.delete(
    "/me/identities/{identity_id}",
    status_code=204,
    summary="Unlink a provider account (refused while it is the only way to sign in)",
    responses=error_responses(404, 409),
)
def unlink_identity(
    db: SessionDep, settings: SettingsDep, user: CurrentUser, identity_id: IdentityId
) -> Response:
    configured = [p.name for p in oidc.configured(settings)]
    identities.unlink(db, actor=user, identity_id=identity_id, configured=configured)
    return Response(status_code=204)


@router.post(
    "/me/verification-mail",
    status_code=202,
    response_model=VerificationMailOut,
    summary="Mail the link that confirms my address again (rate limited)",
    responses=error_responses(409),
)
def resend_verification(
    db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> VerificationMailOut:
    email_links.resend_verification(db, actor=user, now=utcnow(), settings=settings)
    return VerificationMailOut(sent_to=user.email)


@router.put(
    "/me/language",
    response_model=MeOut,
    summary="Choose the language I read the site in (en or ja), or null for my browser's",
)
def set_language(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser, body: LanguageIn
) -> MeOut:
    service.set_language(db, actor=user, language=body.language)
    return me(request, db, settings, user)


@router.get(
    "/me/export",
    response_model=MemberExportOut,
    summary="Everything stored that I wrote or that is about me (a download)",
    description=(
        "Profile, sign-in ways (never a secret), memberships, proposals and revisions, "
        "comments and their versions, ballots (those of anonymous polls too), works, "
        "exhibits, flags, appeals, warnings, notifications and their settings: every stored "
        "column of each record, as one JSON document."
    ),
)
def export_my_data(db: SessionDep, user: CurrentUser) -> Response:
    now = utcnow()
    data = MemberExportOut.model_validate(member_export.export_member(db, user, now=now))
    return JSONResponse(
        data.model_dump(mode="json"),
        headers={"Content-Disposition": member_export.attachment(user, now)},
    )


@router.post(
    "/me/deletion",
    response_model=DeletionOut,
    summary="Delete my account (what I wrote in public stays, as [deleted user])",
    description=(
        "Confirm with `password`, or, for an account without one, with `confirm`: the "
        "username typed. Sign-in ways, sessions, tokens, memberships, notifications and "
        "private messages go; comments, proposals, works and ballots stay, signed "
        '"[deleted user]". 409 while you are the only moderator of a community.'
    ),
    responses=error_responses(409),
)
def delete_account(db: SessionDep, user: CurrentUser, body: DeletionIn) -> DeletionOut:
    deleted = deletion.delete_account(
        db, actor=user, password=body.password, confirm=body.confirm, now=utcnow()
    )
    assert deleted.deleted_at is not None
    return DeletionOut(deleted_at=deleted.deleted_at, shown_as=deletion.DELETED_NAME)
