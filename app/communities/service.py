"""Communities: creating and describing them, joining and leaving, and members' roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n
from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import moderation_log, permissions
from app.communities.models import Category, Community, LogAction, Membership, Role, RoleChange
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.remembered import remembered
from app.text import NUL_PROBLEM

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_DESCRIPTION = 5000
MAX_REASON = 500
MAX_DELIBERATION = 24 * 90
MAX_FLAG_THRESHOLD = 100
CATEGORY_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
SLUG_TAKEN = N_("Another community uses this address.")


@dataclass(frozen=True)
class CommunitySummary:
    community: Community
    member_count: int


def get_community(db: Session, slug: str) -> Community:
    # An address no community can have is not looked up (PostgreSQL refuses NUL in a query).
    community = (
        db.scalar(select(Community).where(Community.slug == slug)) if SLUG_RE.match(slug) else None
    )
    if community is None:
        raise NotFound(_("There is no such community."))
    return community


def _with_member_counts(db: Session, query: Select[Community]) -> list[CommunitySummary]:
    """Run a query for communities, adding each one's member count in the same statement."""
    counts = (
        select(Membership.community_id, func.count(Membership.id).label("n"))
        .group_by(Membership.community_id)
        .subquery()
    )
    rows = db.execute(
        query.add_columns(func.coalesce(counts.c.n, 0)).outerjoin(
            counts, counts.c.community_id == Community.id
        )
    ).all()
    return [CommunitySummary(community, int(n)) for community, n in rows]


def list_communities(db: Session) -> list[CommunitySummary]:
    """Every community with its member count, by name (for the home page)."""
    return _with_member_counts(
        db, select(Community).order_by(func.lower(Community.name), Community.id)
    )


def page_communities(db: Session, *, limit: int, after_id: int | None) -> list[CommunitySummary]:
    query = select(Community).order_by(Community.id).limit(limit)
    if after_id is not None:
        query = query.where(Community.id > after_id)
    return _with_member_counts(db, query)


def member_count(db: Session, community: Community) -> int:
    return (
        db.scalar(select(func.count(Membership.id)).where(Membership.community_id == community.id))
        or 0
    )


def _nul_problems(**fields: str) -> dict[str, str]:
    """PostgreSQL cannot store NUL in text: refused on both databases alike, as a field error."""
    return {name: _(NUL_PROBLEM) for name, value in fields.items() if "\x00" in value}


def _validate_fields(name: str, description: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 3 <= len(name.strip()) <= 80:
        problems["name"] = _("Use 3 to 80 characters.")
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = _("Use at most %(max)s characters.", max=MAX_DESCRIPTION)
    return {**problems, **_nul_problems(name=name, description=description)}


def _slug_taken(db: Session, slug: str) -> bool:
    return db.scalar(select(Community.id).where(Community.slug == slug)) is not None


def create_community(
    db: Session, *, actor: User | None, name: str, slug: str, description: str, now: datetime
) -> Community:
    """An admin founds a community and becomes its first moderator."""
    user = permissions.ensure_can_create_community(actor)
    slug = slug.strip().lower()
    problems = _validate_fields(name, description)
    if not SLUG_RE.match(slug):
        problems["slug"] = _(
            "Use 2 to 40 characters: lower-case letters, digits and '-', "
            "starting with a letter or digit."
        )
    elif _slug_taken(db, slug):
        problems["slug"] = _(SLUG_TAKEN)
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    community = Community(
        slug=slug,
        name=name.strip(),
        description=description.strip(),
        created_at=now,
        created_by_id=user.id,
    )
    try:
        # A double submit may pass the check above twice; the unique slug decides, alone.
        with db.begin_nested():
            db.add(community)
            db.flush()
    except IntegrityError:
        raise ValidationFailed(
            _("Please correct the marked fields."), fields={"slug": _(SLUG_TAKEN)}
        ) from None
    _add_member(
        db,
        community=community,
        user=user,
        role=Role.moderator,
        by=user,
        now=now,
        reason="Founded the community",
    )
    return community


def update_community(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    name: str | None = None,
    description: str | None = None,
    min_deliberation_hours: int | None = None,
    flag_hide_threshold: int | None = None,
    ratification_requires_rights_holder: bool | None = None,
    language: str | None = None,
) -> Community:
    permissions.ensure_can_moderate(actor, membership_of(db, community, actor))
    new_name = community.name if name is None else name
    new_description = community.description if description is None else description
    problems = _validate_fields(new_name, new_description)
    if min_deliberation_hours is not None and not 0 <= min_deliberation_hours <= MAX_DELIBERATION:
        problems["min_deliberation_hours"] = _(
            "Use a number of hours from 0 to %(max)s (90 days).", max=MAX_DELIBERATION
        )
    if flag_hide_threshold is not None and not 0 <= flag_hide_threshold <= MAX_FLAG_THRESHOLD:
        problems["flag_hide_threshold"] = _(
            "Use a number of flags from 1 to %(max)s, or 0 to never hide automatically.",
            max=MAX_FLAG_THRESHOLD,
        )
    guidelines_language = i18n.content_language(language) if language is not None else None
    if language is not None and guidelines_language is None:
        problems["language"] = _(
            "Choose one of: %(choices)s.", choices=", ".join(i18n.CONTENT_LANGUAGES)
        )
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    community.name = new_name.strip()
    community.description = new_description.strip()
    if min_deliberation_hours is not None:
        community.min_deliberation_hours = min_deliberation_hours
    if flag_hide_threshold is not None:
        community.flag_hide_threshold = flag_hide_threshold
    if ratification_requires_rights_holder is not None:
        community.ratification_requires_rights_holder = ratification_requires_rights_holder
    if guidelines_language is not None:
        # New clause versions are written in it; those published keep the language they had.
        community.language = guidelines_language
    db.flush()
    return community


def categories(db: Session, community: Community, *, archived: bool = False) -> list[Category]:
    """The community's categories in their order; archived ones only when asked for."""
    query = select(Category).where(Category.community_id == community.id)
    if not archived:
        query = query.where(Category.archived_at.is_(None))
    return list(db.scalars(query.order_by(Category.position, Category.id)))


def categories_of(db: Session, communities: list[Community]) -> dict[int, list[Category]]:
    """Active categories of several communities in one query (for lists)."""
    grouped: dict[int, list[Category]] = {c.id: [] for c in communities}
    for category in db.scalars(
        select(Category)
        .where(Category.community_id.in_(grouped), Category.archived_at.is_(None))
        .order_by(Category.position, Category.id)
    ):
        grouped[category.community_id].append(category)
    return grouped


def _category_slug(db: Session, community: Community, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32].rstrip("-") or "category"
    slug, n = base, 1
    while db.scalar(
        select(Category.id).where(Category.community_id == community.id, Category.slug == slug)
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _category_problems(name: str, description: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 2 <= len(name.strip()) <= 80:
        problems["name"] = _("Use 2 to 80 characters.")
    if len(description.strip()) > 300:
        problems["description"] = _("Use at most 300 characters.")
    return {**problems, **_nul_problems(name=name, description=description)}


def add_category(
    db: Session, *, actor: User | None, community: Community, name: str, description: str = ""
) -> Category:
    """Moderators add a category at the end of the list; its address is made from the name."""
    permissions.ensure_can_moderate(actor, membership_of(db, community, actor))
    # One at a time per community: a double submit finds the first one's name taken, and
    # two names made into one address do not clash.
    _lock(db, community)
    problems = _category_problems(name, description)
    if not problems and any(
        c.name.lower() == name.strip().lower() for c in categories(db, community, archived=True)
    ):
        problems["name"] = _("There is a category with this name already.")
    if problems:
        raise ValidationFailed(_("The category was not added."), fields=problems)
    position = db.scalar(
        select(func.coalesce(func.max(Category.position), 0)).where(
            Category.community_id == community.id
        )
    )
    category = Category(
        community_id=community.id,
        slug=_category_slug(db, community, name),
        name=name.strip(),
        description=description.strip(),
        position=(position or 0) + 1,
    )
    db.add(category)
    db.flush()
    return category


def get_category(db: Session, community: Community, slug: str) -> Category:
    # Addresses are made by _category_slug; anything else (a NUL, say) is not looked up.
    category = (
        db.scalar(
            select(Category).where(Category.community_id == community.id, Category.slug == slug)
        )
        if CATEGORY_SLUG_RE.match(slug)
        else None
    )
    if category is None:
        raise NotFound(_("There is no such category."))
    return category


def update_category(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    category: Category,
    name: str | None = None,
    description: str | None = None,
    archived: bool | None = None,
    now: datetime,
) -> Category:
    """Rename, describe, archive or restore a category (its address stays the same)."""
    permissions.ensure_can_moderate(actor, membership_of(db, community, actor))
    new_name = category.name if name is None else name
    new_description = category.description if description is None else description
    problems = _category_problems(new_name, new_description)
    if not problems and any(
        c.id != category.id and c.name.lower() == new_name.strip().lower()
        for c in categories(db, community, archived=True)
    ):
        # As add_category: names tell categories apart in lists, filters and the timeline.
        problems["name"] = _("There is a category with this name already.")
    if problems:
        raise ValidationFailed(_("The category was not changed."), fields=problems)
    category.name = new_name.strip()
    category.description = new_description.strip()
    if archived is not None:
        category.archived_at = (category.archived_at or now) if archived else None
    db.flush()
    return category


def membership_of(db: Session, community: Community, user: User | None) -> Membership | None:
    """The user's membership, asked once per session however many parts of a page ask."""
    if user is None:
        return None
    query = select(Membership).where(
        Membership.community_id == community.id, Membership.user_id == user.id
    )
    return remembered(db, ("membership", community.id, user.id), lambda: db.scalar(query))


def memberships_of_user(db: Session, user: User) -> list[Membership]:
    return list(
        db.scalars(
            select(Membership)
            .join(Community)
            .where(Membership.user_id == user.id)
            .order_by(func.lower(Community.name))
        )
    )


def _add_member(
    db: Session,
    *,
    community: Community,
    user: User,
    role: Role,
    by: User,
    now: datetime,
    reason: str = "",
) -> Membership:
    membership = Membership(community_id=community.id, user_id=user.id, role=role, joined_at=now)
    try:
        # A savepoint, so that a double click's second insert fails alone. The row is added
        # inside it: begin_nested() flushes what is pending *before* the savepoint starts.
        with db.begin_nested():
            db.add(membership)
            db.flush()
    except IntegrityError:
        raise Conflict(_("You are a member of this community already.")) from None
    db.add(
        RoleChange(
            community_id=community.id,
            user_id=user.id,
            changed_by_id=by.id,
            old_role=None,
            new_role=role,
            reason=reason,
            created_at=now,
        )
    )
    db.flush()
    return membership


def join(db: Session, *, actor: User | None, community: Community, now: datetime) -> Membership:
    """Join as a fan; a second join is a conflict, not a second membership."""
    user = permissions.require_user(actor)
    if membership_of(db, community, user) is not None:
        raise Conflict(_("You are a member of this community already."))
    # A suspension outlives leaving: joining again does not end it early.
    permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    return _add_member(db, community=community, user=user, role=Role.fan, by=user, now=now)


def _lock(db: Session, community: Community) -> None:
    """Hold the community's row until the transaction ends (SQLite serializes writers anyway)."""
    db.execute(select(Community.id).where(Community.id == community.id).with_for_update())


def _locked_membership(db: Session, community: Community, user: User) -> Membership | None:
    """The user's membership, its row held until the transaction ends and read afresh: two
    requests changing it at once act one after the other, the second on what the first left."""
    locked = db.scalar(
        select(Membership.id)
        .where(Membership.community_id == community.id, Membership.user_id == user.id)
        .with_for_update()
    )
    return None if locked is None else db.get(Membership, locked, populate_existing=True)


def _moderator_count(db: Session, community: Community) -> int:
    """Moderators of the community, counted under a lock on its row until the transaction ends.

    Without the lock two moderators leaving (or demoting each other) at once could each see
    the other one still there. SQLite ignores FOR UPDATE; its writers are serialized anyway.
    """
    db.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    return (
        db.scalar(
            select(func.count(Membership.id)).where(
                Membership.community_id == community.id, Membership.role == Role.moderator
            )
        )
        or 0
    )


def leave(db: Session, *, actor: User | None, community: Community, now: datetime) -> None:
    user = permissions.require_user(actor)
    membership = _locked_membership(db, community, user)
    if membership is None:
        raise Conflict(_("You are not a member of this community."))
    if membership.role == Role.moderator and _moderator_count(db, community) == 1:
        raise Conflict(
            _("You are this community's only moderator. Make another member a moderator first.")
        )
    db.add(
        RoleChange(
            community_id=community.id,
            user_id=user.id,
            changed_by_id=user.id,
            old_role=membership.role,
            new_role=None,
            created_at=now,
        )
    )
    db.delete(membership)
    db.flush()


def members_by_role(db: Session, community: Community) -> dict[Role, list[Membership]]:
    grouped: dict[Role, list[Membership]] = {role: [] for role in Role}
    for membership in db.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.community_id == community.id)
        .order_by(func.lower(User.display_name), User.id)
    ):
        grouped[membership.role].append(membership)
    return grouped


def page_members(
    db: Session, community: Community, *, limit: int, after_id: int | None
) -> list[Membership]:
    query = (
        select(Membership)
        .where(Membership.community_id == community.id)
        .order_by(Membership.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(Membership.id > after_id)
    return list(db.scalars(query))


def change_role(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    username: str,
    role: str,
    reason: str,
    now: datetime,
) -> Membership:
    """A moderator gives a member another role; the change and its reason are recorded."""
    moderator = permissions.ensure_can_moderate(actor, membership_of(db, community, actor))
    problems: dict[str, str] = {}
    if role not in Role.__members__:
        problems["role"] = _(
            "Choose one of: %(choices)s.", choices=", ".join(r.value for r in Role)
        )
    reason = reason.strip()
    if not reason:
        problems["reason"] = _("Say why, for the public record.")
    elif len(reason) > MAX_REASON:
        problems["reason"] = _("Use at most %(max)s characters.", max=MAX_REASON)
    problems.update(_nul_problems(reason=reason))
    if problems:
        raise ValidationFailed(_("The role was not changed."), fields=problems)
    member = accounts_service.get_user(db, username)
    membership = _locked_membership(db, community, member)
    if membership is None:
        raise NotFound(
            _("%(member)s is not a member of this community.", member=member.display_name)
        )
    new_role = Role(role)
    if membership.role == new_role:
        return membership
    if membership.role == Role.moderator and _moderator_count(db, community) == 1:
        raise Conflict(_("A community needs at least one moderator; appoint another one first."))
    db.add(
        RoleChange(
            community_id=community.id,
            user_id=member.id,
            changed_by_id=moderator.id,
            old_role=membership.role,
            new_role=new_role,
            reason=reason,
            created_at=now,
        )
    )
    moderation_log.record(
        db,
        community=community,
        action=LogAction.role_changed,
        actor=moderator,
        now=now,
        reason=reason,
        detail=f"{membership.role.value.replace('_', ' ')} → {new_role.value.replace('_', ' ')}",
        member=member,
    )
    membership.role = new_role
    db.flush()
    return membership


def role_changes(db: Session, community: Community, *, limit: int = 50) -> list[RoleChange]:
    return list(
        db.scalars(
            select(RoleChange)
            .where(RoleChange.community_id == community.id)
            .order_by(RoleChange.created_at.desc(), RoleChange.id.desc())
            .limit(limit)
        )
    )
