"""HTML pages of communities: the home list, a community's page, membership and roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.accounts.models import User
from app.communities import permissions, service
from app.communities.models import Community, Role
from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.guidelines import service as guidelines_service
from app.i18n import N_, content_language_choices, gettext
from app.moderation import appeals as appeals_service
from app.moderation import service as moderation_service
from app.proposals import service as proposals_service
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import see_other
from app.web.templating import is_htmx, render

router = APIRouter(tags=["communities"])

FormStr = Annotated[str, Form()]


@router.get("/", name="home")
def home(request: Request, db: SessionDep, user: OptionalUser) -> Response:
    summaries = service.list_communities(db)
    mine = {m.community_id: m for m in service.memberships_of_user(db, user)} if user else {}
    return render(request, "communities/home.html", {"summaries": summaries, "mine": mine})


@router.get("/communities/new", name="new_community")
def new_community_form(request: Request, user: CurrentUser) -> Response:
    permissions.ensure_can_create_community(user)
    return render(request, "communities/new.html", {"values": {}, "errors": {}})


@router.post("/communities/new")
def create_community(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    name: FormStr = "",
    slug: FormStr = "",
    description: FormStr = "",
) -> Response:
    values = {"name": name, "slug": slug, "description": description}
    try:
        community = service.create_community(
            db, actor=user, name=name, slug=slug, description=description, now=utcnow()
        )
    except ValidationFailed as exc:
        return render(
            request,
            "communities/new.html",
            {"values": values, "errors": exc.fields, "message": exc.message},
            status_code=422,
        )
    return see_other(
        request,
        f"/c/{community.slug}",
        message=gettext("%(community)s is open. You moderate it.", community=community.name),
    )


def _community_context(
    db: SessionDep, community: Community, user: User | None
) -> dict[str, object]:
    membership = service.membership_of(db, community, user)
    can_moderate = permissions.is_moderator(user, membership)
    return {
        "community": community,
        "membership": membership,
        "can_moderate": can_moderate,
        "open_flags": moderation_service.open_count(db, community) if can_moderate else 0,
        "open_appeals": appeals_service.open_count(db, community) if can_moderate else 0,
        "members": service.members_by_role(db, community),
        "roles": list(Role),
        # The community page is the hub: the guidelines' latest changes, the newest proposals.
        "guideline_changes": guidelines_service.versions(db, community, limit=3),
        "recent_proposals": proposals_service.list_proposals(
            db,
            community=community,
            viewer=user,
            filters=proposals_service.ProposalFilter(),
            limit=5,
        ).items,
    }


@router.get("/c/{slug}", name="community")
def community_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = service.get_community(db, slug)
    return render(
        request,
        "communities/community.html",
        _community_context(db, community, user),
        block="membership",
    )


def _membership_changed(
    request: Request, db: SessionDep, community: Community, user: User, message: str
) -> Response:
    if is_htmx(request):
        context = _community_context(db, community, user)
        return render(
            request,
            "communities/community.html",
            {**context, "notice": message},
            block="membership",
        )
    return see_other(request, f"/c/{community.slug}", message=message)


@router.post("/c/{slug}/join", name="join_community")
def join(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = service.get_community(db, slug)
    try:
        service.join(db, actor=user, community=community, now=utcnow())
    except Conflict as exc:
        return see_other(request, f"/c/{slug}", message=exc.message, level="info")
    return _membership_changed(
        request,
        db,
        community,
        user,
        gettext("You joined %(community)s as a fan.", community=community.name),
    )


@router.post("/c/{slug}/leave", name="leave_community")
def leave(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = service.get_community(db, slug)
    try:
        service.leave(db, actor=user, community=community, now=utcnow())
    except Conflict as exc:
        return see_other(request, f"/c/{slug}", message=exc.message, level="error")
    return _membership_changed(
        request, db, community, user, gettext("You left %(community)s.", community=community.name)
    )


@router.get("/c/{slug}/members", name="community_members")
def members_page(request: Request, db: SessionDep, user: OptionalUser, slug: str) -> Response:
    community = service.get_community(db, slug)
    context = _community_context(db, community, user)
    return render(
        request,
        "communities/members.html",
        {**context, "changes": service.role_changes(db, community), "errors": {}, "values": {}},
    )


@router.post("/c/{slug}/members/{username}/role", name="change_role")
def change_role(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    username: str,
    role: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = service.get_community(db, slug)
    try:
        membership = service.change_role(
            db,
            actor=user,
            community=community,
            username=username,
            role=role,
            reason=reason,
            now=utcnow(),
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        context = _community_context(db, community, user)
        return render(
            request,
            "communities/members.html",
            {
                **context,
                "changes": service.role_changes(db, community),
                "errors": {username: exc.fields or {"role": exc.message}},
                "values": {username: {"role": role, "reason": reason}},
                "message": exc.message,
            },
            status_code=exc.status,
        )
    return see_other(
        request,
        f"/c/{slug}/members",
        message=gettext(
            "%(user)s is now a %(role)s.",
            user=membership.user.display_name,
            role=gettext(membership.role.label).lower(),
        ),
    )


def _settings_page(
    request: Request,
    db: SessionDep,
    community: Community,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form: str = "",
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    defaults = {
        "name": community.name,
        "description": community.description,
        "min_deliberation_hours": str(community.min_deliberation_hours),
        "flag_hide_threshold": str(community.flag_hide_threshold),
        "ratification": RATIFICATION_RULES[1][0]
        if community.ratification_requires_rights_holder
        else RATIFICATION_RULES[0][0],
        "language": community.language,
    }
    return render(
        request,
        "communities/edit.html",
        {
            "community": community,
            "categories": service.categories(db, community, archived=True),
            # A failed category form must not blank the settings form beside it.
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "form": form,
            "message": message,
            "ratification_rules": ratification_choices,
            "content_languages": content_language_choices,
        },
        status_code=status_code,
    )


#: Who signs a ratification: the form's choices.
RATIFICATION_RULES = [
    ("moderator", N_("A moderator")),
    ("moderator_and_rights_holder", N_("A moderator and a rights holder (co-signature)")),
]


def ratification_choices() -> list[tuple[str, str]]:
    """The choices in the reader's language; the template calls it while rendering (the
    language is set then)."""
    return [(value, gettext(label)) for value, label in RATIFICATION_RULES]


def _whole_number(raw: str) -> int | None:
    """A number typed in a form: None when left empty, -1 when it is not a whole number."""
    if not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        return -1


@router.get("/c/{slug}/edit", name="edit_community")
def edit_form(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = service.get_community(db, slug)
    permissions.ensure_can_moderate(user, service.membership_of(db, community, user))
    return _settings_page(request, db, community)


@router.post("/c/{slug}/edit")
def edit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    name: FormStr = "",
    description: FormStr = "",
    min_deliberation_hours: FormStr = "",
    flag_hide_threshold: FormStr = "",
    ratification: FormStr = "",
    language: FormStr = "",
) -> Response:
    community = service.get_community(db, slug)
    typed = {
        "name": name,
        "description": description,
        "min_deliberation_hours": min_deliberation_hours,
        "flag_hide_threshold": flag_hide_threshold,
        "ratification": ratification,
        "language": language,
    }
    # A number that is not one is refused by the service, with the allowed range.
    hours = _whole_number(min_deliberation_hours)
    threshold = _whole_number(flag_hide_threshold)
    try:
        service.update_community(
            db,
            actor=user,
            community=community,
            name=name,
            description=description,
            min_deliberation_hours=hours,
            flag_hide_threshold=threshold,
            # Left out (an older form): unchanged.
            ratification_requires_rights_holder={
                "moderator": False,
                "moderator_and_rights_holder": True,
            }.get(ratification),
            # Left out (an older form): unchanged.
            language=language or None,
        )
    except ValidationFailed as exc:
        return _settings_page(
            request,
            db,
            community,
            values=typed,
            errors=exc.fields,
            form="community",
            message=exc.message,
            status_code=422,
        )
    return see_other(request, f"/c/{slug}", message=gettext("The community settings were saved."))


@router.post("/c/{slug}/categories", name="add_category")
def add_category(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    name: FormStr = "",
    description: FormStr = "",
) -> Response:
    community = service.get_community(db, slug)
    try:
        category = service.add_category(
            db, actor=user, community=community, name=name, description=description
        )
    except ValidationFailed as exc:
        values = {"category_name": name, "category_description": description}
        return _settings_page(
            request,
            db,
            community,
            values=values,
            errors=exc.fields,
            form="category",
            message=exc.message,
            status_code=422,
        )
    return see_other(
        request,
        f"/c/{slug}/edit#categories",
        message=gettext("Category “%(category)s” added.", category=category.name),
    )


@router.post("/c/{slug}/categories/{category_slug}", name="update_category")
def update_category(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    category_slug: str,
    name: FormStr = "",
    description: FormStr = "",
    archived: FormStr = "",
) -> Response:
    community = service.get_community(db, slug)
    category = service.get_category(db, community, category_slug)
    try:
        service.update_category(
            db,
            actor=user,
            community=community,
            category=category,
            name=name,
            description=description,
            archived=archived == "1",
            now=utcnow(),
        )
    except ValidationFailed as exc:
        # The list again, this category's row as it was typed, the problems beside it.
        typed = {"name": name, "description": description, "archived": archived}
        return _settings_page(
            request,
            db,
            community,
            values={f"category.{category.slug}.{key}": value for key, value in typed.items()},
            errors=exc.fields,
            form=f"category.{category.slug}",
            message=exc.message,
            status_code=422,
        )
    return see_other(
        request,
        f"/c/{slug}/edit#categories",
        message=gettext("Category “%(category)s” saved.", category=category.name),
    )
