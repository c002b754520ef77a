"""Example works: register and edit them, list them, walk their lineage, credit upstream,
and keep the preview image of image works."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, union_all
from sqlalchemy.orm import Session

from app import i18n, paging
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community, LogAction, Membership
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, gettext
from app.notifications import tell
from app.text import NUL_PROBLEM, content_language, edited_language, public_reason
from app.works import images
from app.works import permissions as perms
from app.works.models import Medium, Work, WorkImage, WorkParent

TITLE_MAX = 200
CREATOR_MAX = 120
URL_MAX = 2000
LICENSE_MAX = 120
NOTES_MAX = 300
DESCRIPTION_MAX = 5000
EXCERPT_MAX = 5000
DURATION_MAX = 86_400.0
PARENTS_MAX = 50
MAX_DEPTH = 50
LICENSES = (
    "CC BY-NC 3.0",
    "CC BY 4.0",
    "CC0 1.0",
    "CreativeML Open RAIL-M",
    "All rights reserved",
)
TIMED = (Medium.audio, Medium.video)
TEXT_FIELDS = (
    "title",
    "creator_name",
    "creator_username",
    "url",
    "license",
    "content_notes",
    "description",
    "excerpt",
)


@dataclass
class WorkDraft:
    """What a person typed into the work form (every value as typed)."""

    title: str = ""
    creator_name: str = ""
    creator_username: str = ""
    url: str = ""
    medium: str = ""
    license: str = ""
    content_notes: str = ""
    description: str = ""
    excerpt: str = ""
    duration_seconds: str = ""
    parents: list[str] = field(default_factory=list)
    #: A content language code; empty: the work's own, else the writer's interface language.
    language: str = ""


@dataclass
class Checked:
    title: str
    creator_name: str
    creator_user_id: int | None
    url: str
    medium: Medium
    license: str
    content_notes: str
    description: str
    excerpt: str | None
    duration_seconds: float | None
    parent_ids: list[int]
    language: str | None


@dataclass
class WorkPage:
    items: list[Work]
    next_cursor: str | None


class Kin(NamedTuple):
    """A work met on a lineage walk: what it takes to name and credit it."""

    id: int
    title: str
    creator_name: str
    license: str


@dataclass
class LineageNode:
    """A work in a lineage tree; `repeated` marks one already shown higher up."""

    work: Kin
    depth: int
    children: list[LineageNode] = field(default_factory=list)
    repeated: bool = False


def _valid_url(url: str) -> bool:
    if any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _parse_ids(raw: list[str]) -> list[int] | None:
    ids: list[int] = []
    for item in raw:
        text = str(item).strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**63 - 1:
            return None
        if int(text) not in ids:
            ids.append(int(text))
    return ids


def _check(db: Session, community: Community, values: WorkDraft, work: Work | None) -> Checked:
    problems: dict[str, str] = {}
    title = values.title.strip()
    if not 1 <= len(title) <= TITLE_MAX:
        problems["title"] = gettext("Use 1 to %(max)s characters.", max=TITLE_MAX)
    creator_name = values.creator_name.strip()
    if not 1 <= len(creator_name) <= CREATOR_MAX:
        problems["creator_name"] = gettext("Use 1 to %(max)s characters.", max=CREATOR_MAX)
    url = values.url.strip()
    if not url:
        problems["url"] = gettext("Give the address where the work can be seen.")
    elif len(url) > URL_MAX:
        problems["url"] = gettext("Use at most %(max)s characters.", max=URL_MAX)
    elif not _valid_url(url):
        problems["url"] = gettext("Use an http:// or https:// address.")
    medium = Medium.other
    if values.medium in Medium.__members__:
        medium = Medium(values.medium)
    else:
        problems["medium"] = gettext(
            "Choose a medium: %(choices)s.", choices=", ".join(m.value for m in Medium)
        )
    license_ = values.license.strip()
    if len(license_) > LICENSE_MAX:
        problems["license"] = gettext("Use at most %(max)s characters.", max=LICENSE_MAX)
    notes = ", ".join(n.strip() for n in values.content_notes.split(",") if n.strip())
    if len(notes) > NOTES_MAX:
        problems["content_notes"] = gettext("Use at most %(max)s characters.", max=NOTES_MAX)
    if len(values.description) > DESCRIPTION_MAX:
        problems["description"] = gettext(
            "Use at most %(max)s characters.", max=i18n.number(DESCRIPTION_MAX)
        )
    excerpt: str | None = values.excerpt if values.excerpt.strip() else None
    if excerpt is not None:
        if medium != Medium.text and "medium" not in problems:
            problems["excerpt"] = gettext("Only text works carry an excerpt.")
        elif len(excerpt) > EXCERPT_MAX:
            problems["excerpt"] = gettext(
                "Use at most %(max)s characters.", max=i18n.number(EXCERPT_MAX)
            )
    duration: float | None = None
    raw_duration = values.duration_seconds.strip()
    if raw_duration:
        if medium not in TIMED and "medium" not in problems:
            problems["duration_seconds"] = gettext("Only audio and video works have a duration.")
        else:
            try:
                duration = float(raw_duration) if raw_duration.isascii() else math.nan
            except ValueError:
                duration = math.nan
            if not (math.isfinite(duration) and 0 < duration <= DURATION_MAX):
                problems["duration_seconds"] = gettext(
                    "Give the length in seconds: more than 0, at most %(max)s.",
                    max=f"{DURATION_MAX:,.0f}",
                )
                duration = None
    for name in TEXT_FIELDS:
        if "\x00" in getattr(values, name):
            problems[name] = gettext(NUL_PROBLEM)
    creator_user_id = _creator(db, community, values.creator_username.strip(), problems)
    parent_ids = _parents(db, community, values.parents, work, problems)
    language = (
        edited_language(values.language, problems, work.language)
        if work is not None
        else content_language(values.language, problems)
    )
    if problems:
        raise ValidationFailed(gettext("Please correct the marked fields."), fields=problems)
    return Checked(
        title=title,
        creator_name=creator_name,
        creator_user_id=creator_user_id,
        url=url,
        medium=medium,
        license=license_,
        content_notes=notes,
        description=values.description,
        excerpt=excerpt,
        duration_seconds=duration,
        parent_ids=parent_ids,
        language=language,
    )


def _creator(
    db: Session, community: Community, username: str, problems: dict[str, str]
) -> int | None:
    """The member the creator name links to, if one is named."""
    if not username or "creator_username" in problems:
        return None
    user_id = db.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(func.lower(User.username) == username.lstrip("@").lower())
        .where(Membership.community_id == community.id)
    )
    if user_id is None:
        problems["creator_username"] = gettext("No member of this community has that username.")
    return user_id


def _parents(
    db: Session,
    community: Community,
    raw: list[str],
    work: Work | None,
    problems: dict[str, str],
) -> list[int]:
    ids = _parse_ids(raw)
    if ids is None:
        problems["parents"] = gettext("Parents are ids of works in this community.")
        return []
    if len(ids) > PARENTS_MAX:
        problems["parents"] = gettext("Choose at most %(max)s parents.", max=PARENTS_MAX)
        return []
    if not ids:
        return []
    found = set(
        db.scalars(select(Work.id).where(Work.id.in_(ids), Work.community_id == community.id))
    )
    missing = [i for i in ids if i not in found]
    if missing:
        problems["parents"] = (
            "Unknown work " + ", ".join(f"#{i}" for i in missing) + (" in this community.")
        )
        return []
    if work is not None:
        if work.id in ids:
            problems["parents"] = gettext("A work cannot derive from itself.")
            return []
        below = {w.id: w for w, _ in descendants(db, work)}
        loops = [below[i] for i in ids if i in below]
        if loops:
            names = ", ".join(f"“{w.title}”" for w in loops)
            problems["parents"] = gettext(
                "That would make a cycle: %(names)s already derives from this work, so it cannot "
                "also be its parent.",
                names=names,
            )
            return []
    return ids


def _set_parents(db: Session, work: Work, parent_ids: list[int]) -> None:
    db.execute(delete(WorkParent).where(WorkParent.child_id == work.id))
    for parent_id in parent_ids:
        db.add(WorkParent(child_id=work.id, parent_id=parent_id))
    db.flush()


def _apply(work: Work, checked: Checked) -> None:
    work.title = checked.title
    work.creator_name = checked.creator_name
    work.creator_user_id = checked.creator_user_id
    work.url = checked.url
    work.medium = checked.medium
    work.license = checked.license
    work.content_notes = checked.content_notes
    work.description = checked.description
    work.excerpt = checked.excerpt
    work.duration_seconds = checked.duration_seconds
    work.language = checked.language


def create_work(
    db: Session, *, actor: User | None, community: Community, values: WorkDraft, now: datetime
) -> Work:
    user = perms.ensure_member(actor, communities_service.membership_of(db, community, actor))
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    checked = _check(db, community, values, None)
    work = Work(community_id=community.id, created_by_id=user.id, created_at=now)
    _apply(work, checked)
    db.add(work)
    db.flush()
    _set_parents(db, work, checked.parent_ids)
    db.refresh(work)
    return work


def update_work(db: Session, *, actor: User | None, work: Work, values: WorkDraft) -> Work:
    membership = communities_service.membership_of(db, work.community, actor)
    user = perms.ensure_can_edit(actor, membership, work)
    community_permissions.ensure_can_participate(db, actor=user, community=work.community)
    checked = _check(db, work.community, values, work)
    _apply(work, checked)
    db.flush()
    _set_parents(db, work, checked.parent_ids)
    if work.medium != Medium.image:
        # Only image works have a preview; one left from before would show nowhere.
        db.execute(delete(WorkImage).where(WorkImage.work_id == work.id))
    return work


def draft_of(db: Session, work: Work) -> WorkDraft:
    """The form of a work as it is now."""
    return WorkDraft(
        title=work.title,
        creator_name=work.creator_name,
        creator_username=work.creator_user.username if work.creator_user else "",
        url=work.url,
        medium=work.medium.value,
        license=work.license,
        content_notes=work.content_notes,
        description=work.description,
        excerpt=work.excerpt or "",
        duration_seconds=_duration_text(work.duration_seconds),
        parents=[str(i) for i in parent_ids(db, work)],
        language=work.language or "",
    )


def _duration_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def get_work(db: Session, work_id: int, *, community: Community | None = None) -> Work:
    work = db.get(Work, work_id)
    if work is None or (community is not None and work.community_id != community.id):
        raise NotFound(gettext("There is no such work."))
    return work


def list_works(
    db: Session,
    *,
    community: Community,
    medium: str = "",
    limit: int = 20,
    cursor: str | None = None,
) -> WorkPage:
    query = select(Work).where(Work.community_id == community.id)
    if medium:
        if medium not in Medium.__members__:
            raise ValidationFailed(
                gettext("The filter is not valid."),
                fields={
                    "medium": gettext(
                        "Choose one of: %(choices)s.", choices=", ".join(m.value for m in Medium)
                    )
                },
            )
        query = query.where(Work.medium == Medium(medium))
    after = paging.decode(cursor, size=1)
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise ValidationFailed(
                gettext("The cursor is not valid."),
                fields={"cursor": gettext("Use the next_cursor of a previous page.")},
            )
        query = query.where(Work.id < after[0])
    items = list(db.scalars(query.order_by(Work.id.desc()).limit(limit)))
    next_cursor = paging.encode(items[-1].id) if len(items) == limit else None
    return WorkPage(items, next_cursor)


def all_works(db: Session, community: Community) -> list[Work]:
    """Every work of a community, by title: the choices of the parents picker."""
    return list(
        db.scalars(
            select(Work).where(Work.community_id == community.id).order_by(Work.title, Work.id)
        )
    )


def parent_ids(db: Session, work: Work) -> list[int]:
    return list(
        db.scalars(
            select(WorkParent.parent_id)
            .where(WorkParent.child_id == work.id)
            .order_by(WorkParent.parent_id)
        )
    )


@dataclass(frozen=True)
class Walk:
    """Everything reachable from one work in one direction of the lineage.

    `following` maps each work to the next ones along the walk (parents going up, children
    going down), each list sorted by title; `depths` holds each reached work's shortest
    distance, up to MAX_DEPTH steps.
    """

    root_id: int
    works: dict[int, Kin]
    following: dict[int, list[int]]
    depths: dict[int, int]

    def ranked(self) -> list[tuple[Kin, int]]:
        """The reached works, nearest first (then by id)."""
        return sorted(
            ((self.works[i], d) for i, d in self.depths.items()), key=lambda p: (p[1], p[0].id)
        )

    def tree(self, limit: int | None = None) -> LineageTree:
        """The walk as nested lists, holding the `limit` nearest works (all when None)."""
        ranked = self.ranked()
        kept = {kin.id for kin, _ in (ranked if limit is None else ranked[:limit])}
        shown: set[int] = set()

        def grow(work_id: int, depth: int) -> list[LineageNode]:
            nodes: list[LineageNode] = []
            for next_id in self.following.get(work_id, []):
                if next_id not in kept:
                    continue
                node = LineageNode(self.works[next_id], depth, repeated=next_id in shown)
                if not node.repeated:
                    shown.add(next_id)
                    if depth < MAX_DEPTH:
                        node.children = grow(next_id, depth + 1)
                nodes.append(node)
            return nodes

        return LineageTree(grow(self.root_id, 1), shown=len(kept), total=len(ranked))


@dataclass(frozen=True)
class LineageTree:
    nodes: list[LineageNode]
    shown: int
    total: int

    @property
    def complete(self) -> bool:
        return self.shown == self.total


def walk(db: Session, work: Work, *, up: bool) -> Walk:
    """The lineage reachable from `work`, upstream or downstream, in one statement.

    The recursive part walks work ids alone, so UNION expands each work once however many
    paths lead to it (a walk on (work, depth) would expand it once per path length, with all
    that lies beyond). The edges walked come back with the names of the works they reach, and
    the shortest depths are counted here, breadth first.
    """
    edge = WorkParent.__table__
    source, target = (
        (edge.c.child_id, edge.c.parent_id) if up else (edge.c.parent_id, edge.c.child_id)
    )
    reach = select(target.label("work_id")).where(source == work.id).cte("reach", recursive=True)
    reach = reach.union(select(target).select_from(edge.join(reach, source == reach.c.work_id)))
    # Two branches rather than one OR: PostgreSQL plans `source IN (cte) OR source = :id`
    # as a scan of every edge.
    walked = union_all(
        select(source.label("source"), target.label("target")).where(source == work.id),
        select(source, target).select_from(edge.join(reach, source == reach.c.work_id)),
    ).subquery()
    rows = db.execute(
        select(walked.c.source, walked.c.target, Work.title, Work.creator_name, Work.license)
        .join(Work, Work.id == walked.c.target)
        .order_by(Work.title, Work.id)
    ).all()
    works: dict[int, Kin] = {}
    following: dict[int, list[int]] = {}
    for source_id, target_id, title, creator_name, license_ in rows:
        if target_id not in works:
            works[target_id] = Kin(target_id, title, creator_name, license_)
        following.setdefault(source_id, []).append(target_id)
    depths: dict[int, int] = {}
    frontier = [work.id]
    for depth in range(1, MAX_DEPTH + 1):
        reached = []
        for current in frontier:
            for next_id in following.get(current, []):
                if next_id != work.id and next_id not in depths:
                    depths[next_id] = depth
                    reached.append(next_id)
        frontier = reached
    return Walk(work.id, works, following, depths)


def ancestors(db: Session, work: Work) -> list[tuple[Kin, int]]:
    """What `work` derives from, directly (depth 1) or further upstream."""
    return walk(db, work, up=True).ranked()


def descendants(db: Session, work: Work) -> list[tuple[Kin, int]]:
    """What derives from `work`, directly (depth 1) or further downstream."""
    return walk(db, work, up=False).ranked()


def lineage_tree(db: Session, work: Work, *, up: bool, limit: int | None = None) -> LineageTree:
    """The ancestors (up) or descendants as nested lists; a work met twice is not re-expanded."""
    return walk(db, work, up=up).tree(limit)


def credit(work: Work | Kin) -> str:
    license_ = work.license or "license not stated"
    return f'"{work.title}" by {work.creator_name} ({license_})'


def attribution(db: Session, work: Work, upstream: Walk | None = None) -> str:
    """The plain-text credit line owed upstream: the work, then what it derives from."""
    upstream = upstream or walk(db, work, up=True)
    text = credit(work)
    credits = [credit(kin) for kin, _ in upstream.ranked()]
    if credits:
        text += ", derived from " + "; ".join(credits)
    return text


ONLY_IMAGES = N_("Only image works have a preview image.")


def preview_of(db: Session, work: Work) -> WorkImage | None:
    """The work's preview without its bytes (its digest, sizes and types), if it has one."""
    return db.get(WorkImage, work.id)


def previews_of(db: Session, works: list[Work]) -> dict[int, WorkImage]:
    """The previews of several works in one query, by work id, without their bytes."""
    ids = [w.id for w in works if w.medium == Medium.image]
    if not ids:
        return {}
    found = db.scalars(select(WorkImage).where(WorkImage.work_id.in_(ids)))
    return {p.work_id: p for p in found}


def preview_bytes(db: Session, work: Work, *, thumbnail: bool) -> bytes | None:
    """The bytes of the work's full preview image or of its thumbnail."""
    column = WorkImage.thumb_data if thumbnail else WorkImage.data
    return db.scalar(select(column).where(WorkImage.work_id == work.id))


def set_preview(
    db: Session, *, actor: User | None, work: Work, data: bytes, now: datetime
) -> WorkImage:
    """Give an image work its preview (verified and stripped of metadata), replacing any."""
    membership = communities_service.membership_of(db, work.community, actor)
    user = perms.ensure_can_edit(actor, membership, work)
    community_permissions.ensure_can_participate(db, actor=user, community=work.community, now=now)
    if work.medium != Medium.image:
        raise ValidationFailed(gettext(ONLY_IMAGES), fields={images.FIELD: gettext(ONLY_IMAGES)})
    processed = images.process(data)
    # One upload at a time per work (its row is held until the transaction ends): two at once
    # would both find no preview and both insert one. The later replaces the earlier.
    db.execute(select(Work.id).where(Work.id == work.id).with_for_update())
    preview = db.get(WorkImage, work.id, populate_existing=True)
    if preview is None:
        preview = WorkImage(work_id=work.id)
        db.add(preview)
    preview.content_type = processed.image.content_type
    preview.width = processed.image.width
    preview.height = processed.image.height
    preview.data = processed.image.data
    preview.thumb_content_type = processed.thumbnail.content_type
    preview.thumb_width = processed.thumbnail.width
    preview.thumb_height = processed.thumbnail.height
    preview.thumb_data = processed.thumbnail.data
    preview.digest = processed.digest
    preview.uploaded_by_id = user.id
    preview.created_at = now
    db.flush()
    return preview


def remove_preview(db: Session, *, actor: User | None, work: Work) -> bool:
    """Delete the work's preview; False when it had none."""
    membership = communities_service.membership_of(db, work.community, actor)
    user = perms.ensure_can_edit(actor, membership, work)
    community_permissions.ensure_can_participate(db, actor=user, community=work.community)
    preview = db.get(WorkImage, work.id)
    if preview is None:
        return False
    db.delete(preview)
    db.flush()
    return True


def hide_work(db: Session, *, actor: User | None, work: Work, reason: str, now: datetime) -> Work:
    """A moderator removes a work from view with a public reason; its record is kept.

    Hiding what a moderator hid already changes nothing: a double submit, or two moderators
    at once, hide it once, in the log and in the notifications alike.
    """
    membership = communities_service.membership_of(db, work.community, actor)
    moderator = perms.ensure_can_moderate(actor, membership)
    text = public_reason(reason)
    # The work's row is held until the transaction ends, and read afresh.
    db.execute(select(Work.id).where(Work.id == work.id).with_for_update())
    db.refresh(work)
    if work.is_removed:
        return work
    work.remove(moderator_id=moderator.id, reason=text, now=now)
    tell.work_hidden(db, work=work, reason=text, actor=moderator, now=now)
    moderation_log.record(
        db,
        community=work.community_id,
        action=LogAction.work_hidden,
        actor=moderator,
        now=now,
        reason=text,
        member=work.created_by_id,
        work_id=work.id,
    )
    db.flush()
    return work


def hide_work_pending_review(db: Session, work: Work, now: datetime) -> None:
    """Enough members flagged it: out of view until a moderator decides."""
    work.hold_for_review(now)
    db.flush()


def restore_work(
    db: Session,
    *,
    actor: User | None,
    work: Work,
    reason: str = "",
    now: datetime | None = None,
) -> Work:
    """A moderator puts a hidden work back in view (an optional public reason is logged)."""
    membership = communities_service.membership_of(db, work.community, actor)
    moderator = perms.ensure_can_moderate(actor, membership)
    text = public_reason(reason) if reason.strip() else ""
    if work.hidden_at is None:
        return work
    work.show()
    moderation_log.record(
        db,
        community=work.community_id,
        action=LogAction.work_restored,
        actor=moderator,
        now=now or utcnow(),
        reason=text,
        member=work.created_by_id,
        work_id=work.id,
    )
    db.flush()
    return work
