"""JSON API of communities: list, create, describe, join and leave, members and roles."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import Category, Community, Membership, RoleChange
from app.communities.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    CommunityCreate,
    CommunityDetailOut,
    CommunityList,
    CommunityOut,
    CommunityUpdate,
    MemberList,
    MemberOut,
    RoleChangeList,
    RoleChangeOut,
    RoleUpdate,
)
from app.db import utcnow
from app.errors import ValidationFailed
from app.polls import service as polls_service
from app.polls.schemas import PolicyIn, PolicyOut
from app.web.api import COMMON_ERRORS, Cursor, Limit, decode_cursor, error_responses, next_cursor
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.urls import url_for

router = APIRouter(tags=["communities"], responses=COMMON_ERRORS)

NOT_FOUND = error_responses(404)


def category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        slug=category.slug,
        name=category.name,
        description=category.description,
        archived=category.archived_at is not None,
    )


def community_out(
    request: Request, community: Community, member_count: int, categories: list[Category]
) -> CommunityOut:
    return CommunityOut(
        id=community.id,
        slug=community.slug,
        name=community.name,
        description=community.description,
        created_at=community.created_at,
        member_count=member_count,
        min_deliberation_hours=community.min_deliberation_hours,
        flag_hide_threshold=community.flag_hide_threshold,
        ratification_requires_rights_holder=community.ratification_requires_rights_holder,
        language=community.language,
        categories=[category_out(c) for c in categories],
        url=url_for(request, "community", slug=community.slug),
    )


def member_out(membership: Membership) -> MemberOut:
    return MemberOut(
        id=membership.id,
        username=membership.user.username,
        display_name=membership.user.display_name,
        role=membership.role,
        joined_at=membership.joined_at,
    )


@router.get("/communities", response_model=CommunityList, summary="List communities")
def list_communities(
    request: Request, db: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> CommunityList:
    page = service.page_communities(db, limit=limit, after_id=decode_cursor(cursor))
    categories = service.categories_of(db, [s.community for s in page])
    return CommunityList(
        items=[
            community_out(request, s.community, s.member_count, categories[s.community.id])
            for s in page
        ],
        next_cursor=next_cursor([s.community.id for s in page], limit),
    )


@router.post(
    "/communities",
    response_model=CommunityDetailOut,
    status_code=201,
    summary="Create a community (site admins)",
    responses=error_responses(409),
)
def create_community(
    request: Request, db: SessionDep, user: CurrentUser, body: CommunityCreate
) -> CommunityDetailOut:
    community = service.create_community(
        db, actor=user, name=body.name, slug=body.slug, description=body.description, now=utcnow()
    )
    return _full_out(request, db, community)


@router.get(
    "/communities/{slug}",
    response_model=CommunityDetailOut,
    summary="One community",
    responses=NOT_FOUND,
)
def get_community(request: Request, db: SessionDep, slug: str) -> CommunityDetailOut:
    return _full_out(request, db, service.get_community(db, slug))


def _full_out(request: Request, db: Session, community: Community) -> CommunityDetailOut:
    summary = community_out(
        request, community, service.member_count(db, community), service.categories(db, community)
    )
    return CommunityDetailOut(
        **summary.model_dump(), poll_policy=PolicyOut.of(polls_service.policy_of(db, community))
    )


def _set_poll_policy(db: Session, user: User, community: Community, body: PolicyIn) -> None:
    try:
        polls_service.set_policy(
            db, actor=user, community=community, settings=body.settings(), now=utcnow()
        )
    except ValidationFailed as exc:
        # Named as they sit in this body, like every other field error.
        fields = {f"poll_policy.{name}": problem for name, problem in exc.fields.items()}
        raise ValidationFailed(exc.message, fields=fields) from None


@router.patch(
    "/communities/{slug}",
    response_model=CommunityDetailOut,
    summary="Change a community's settings: name, description, periods, flags, poll policy "
    "(moderators)",
    responses=NOT_FOUND,
)
def update_community(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, body: CommunityUpdate
) -> CommunityDetailOut:
    community = service.update_community(
        db,
        actor=user,
        community=service.get_community(db, slug),
        name=body.name,
        description=body.description,
        min_deliberation_hours=body.min_deliberation_hours,
        flag_hide_threshold=body.flag_hide_threshold,
        ratification_requires_rights_holder=body.ratification_requires_rights_holder,
        language=body.language,
    )
    if body.poll_policy is not None:
        _set_poll_policy(db, user, community, body.poll_policy)
    return _full_out(request, db, community)


@router.post(
    "/communities/{slug}/categories",
    response_model=CategoryOut,
    status_code=201,
    summary="Add a proposal category (moderators)",
    responses=NOT_FOUND,
)
def add_category(db: SessionDep, user: CurrentUser, slug: str, body: CategoryCreate) -> CategoryOut:
    community = service.get_community(db, slug)
    return category_out(
        service.add_category(
            db, actor=user, community=community, name=body.name, description=body.description
        )
    )


@router.patch(
    "/communities/{slug}/categories/{category}",
    response_model=CategoryOut,
    summary="Rename, describe, archive or restore a category (moderators)",
    responses=NOT_FOUND,
)
def update_category(
    db: SessionDep, user: CurrentUser, slug: str, category: str, body: CategoryUpdate
) -> CategoryOut:
    community = service.get_community(db, slug)
    return category_out(
        service.update_category(
            db,
            actor=user,
            community=community,
            category=service.get_category(db, community, category),
            name=body.name,
            description=body.description,
            archived=body.archived,
            now=utcnow(),
        )
    )


@router.post(
    "/communities/{slug}/join",
    response_model=MemberOut,
    status_code=201,
    summary="Join as a fan",
    responses=error_responses(404, 409),
)
def join(db: SessionDep, user: CurrentUser, slug: str) -> MemberOut:
    community = service.get_community(db, slug)
    return member_out(service.join(db, actor=user, community=community, now=utcnow()))


@router.post(
    "/communities/{slug}/leave",
    status_code=204,
    summary="Leave the community",
    responses=error_responses(404, 409),
)
def leave(db: SessionDep, user: CurrentUser, slug: str) -> None:
    service.leave(db, actor=user, community=service.get_community(db, slug), now=utcnow())


@router.get(
    "/communities/{slug}/members",
    response_model=MemberList,
    summary="Members and their roles",
    responses=NOT_FOUND,
)
def members(db: SessionDep, slug: str, limit: Limit = 50, cursor: Cursor = None) -> MemberList:
    community = service.get_community(db, slug)
    page = service.page_members(db, community, limit=limit, after_id=decode_cursor(cursor))
    return MemberList(
        items=[member_out(m) for m in page], next_cursor=next_cursor([m.id for m in page], limit)
    )


@router.put(
    "/communities/{slug}/members/{username}",
    response_model=MemberOut,
    summary="Change a member's role (moderators); the reason is public",
    responses=error_responses(404, 409),
)
def change_role(
    db: SessionDep, user: CurrentUser, slug: str, username: str, body: RoleUpdate
) -> MemberOut:
    membership = service.change_role(
        db,
        actor=user,
        community=service.get_community(db, slug),
        username=username,
        role=body.role,
        reason=body.reason,
        now=utcnow(),
    )
    return member_out(membership)


def role_change_out(change: RoleChange) -> RoleChangeOut:
    return RoleChangeOut(
        id=change.id,
        username=change.user.username,
        changed_by=change.changed_by.username if change.changed_by else None,
        old_role=change.old_role,
        new_role=change.new_role,
        reason=change.reason,
        created_at=change.created_at,
    )


@router.get(
    "/communities/{slug}/role-changes",
    response_model=RoleChangeList,
    summary="The public record of joins, leaves and role changes, newest first",
    responses=NOT_FOUND,
)
def role_changes(db: SessionDep, user: OptionalUser, slug: str) -> RoleChangeList:
    community = service.get_community(db, slug)
    return RoleChangeList(items=[role_change_out(c) for c in service.role_changes(db, community)])
