"""JSON API of accounts: who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.accounts.schemas import MembershipOfUser, MeOut, UserOut
from app.communities import service as communities_service
from app.web.api import COMMON_ERRORS
from app.web.auth import current_auth
from app.web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["accounts"], responses=COMMON_ERRORS)


@router.get("/me", response_model=MeOut, summary="The current user, with memberships and roles")
def me(request: Request, db: SessionDep, user: CurrentUser) -> MeOut:
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
        authenticated_by=current_auth(request).via,
        memberships=memberships,
    )
