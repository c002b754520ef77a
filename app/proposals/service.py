"""Proposals: write, revise and compare, publish and withdraw, co-author, follow, list, search."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n, paging
from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Category, Community, LogAction
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, gettext
from app.notifications import tell
from app.proposals import diff as word_diff
from app.proposals import lifecycle
from app.proposals import permissions as perms
from app.proposals.models import (
    AuthorRole,
    EventKind,
    Follow,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    ProposalKind,
    ProposalState,
    ProposalTag,
    Revision,
)
from app.remembered import remembered
from app.text import NUL_PROBLEM, content_language, edited_language

TITLE_MIN, TITLE_MAX = 3, 140
SUMMARY_MAX = 500
TEXT_MAX = 20_000
MESSAGE_MAX = 300
TAG_MAX, TAGS_MAX = 32, 10
TAG_RE = re.compile(r"^[\w][\w-]*$")
TEXT_FIELDS = ("title", "summary", "norm_text", "rationale")
#: Marked for the catalogs; the revision pages show `_(label)`.
FIELD_LABELS = {
    "title": N_("Title"),
    "summary": N_("Summary"),
    "norm_text": N_("Norm text"),
    "rationale": N_("Rationale"),
}

Sort = Literal["newest", "active", "closing"]
SORTS: tuple[Sort, ...] = ("newest", "active", "closing")


class StaleRevision(Conflict):
    """The edit was based on an older revision than the current one."""

    code = "stale_revision"

    def __init__(self, current: int) -> None:
        super().__init__(
            gettext(
                "Someone saved a newer version (revision %(current)s) while you were editing. "
                "Your text is kept below: compare it with the current version and save again.",
                current=current,
            )
        )
        self.current = current


@dataclass
class ProposalDraft:
    """What a person typed into the proposal form."""

    title: str = ""
    summary: str = ""
    rationale: str = ""
    norm_text: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    kind: str = ProposalKind.new.value
    target_clause: str = ""
    #: A content language code; empty: the proposal's own, else the writer's interface language.
    language: str = ""


def parse_tags(raw: str | list[str]) -> list[str]:
    """Tags from a comma-separated string or a list: lower-case, '#' dropped, spaces become '-'."""
    items = raw.split(",") if isinstance(raw, str) else raw
    tags: list[str] = []
    for item in items:
        tag = re.sub(r"\s+", "-", item.strip().lstrip("#").strip().lower())
        if tag and tag not in tags:
            tags.append(tag)
    return tags


# PostgreSQL cannot store NUL in text (SQLite can): refused alike on both, as a field error.


def _check_text(values: ProposalDraft, problems: dict[str, str]) -> None:
    title = values.title.strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        problems["title"] = gettext(
            "Use %(min)s to %(max)s characters.", min=TITLE_MIN, max=TITLE_MAX
        )
    if len(values.summary.strip()) > SUMMARY_MAX:
        problems["summary"] = gettext("Use at most %(max)s characters.", max=SUMMARY_MAX)
    for name in ("rationale", "norm_text"):
        if len(getattr(values, name)) > TEXT_MAX:
            problems[name] = gettext("Use at most %(max)s characters.", max=i18n.number(TEXT_MAX))
    for name in TEXT_FIELDS:
        if "\x00" in getattr(values, name):
            problems[name] = gettext(NUL_PROBLEM)


def _check_tags(raw: list[str], problems: dict[str, str]) -> list[str]:
    """The tags normalised (callers may pass them as typed: duplicates would clash in the table)."""
    tags = parse_tags(raw)
    if len(tags) > TAGS_MAX:
        problems["tags"] = gettext("Use at most %(max)s tags.", max=TAGS_MAX)
    elif any(len(t) > TAG_MAX or not TAG_RE.match(t) for t in tags):
        problems["tags"] = gettext(
            "Tags are words of up to %(max)s letters, digits, '-' or '_', separated by commas.",
            max=TAG_MAX,
        )
    return tags


def _resolve_category(
    db: Session,
    community: Community,
    slug: str,
    problems: dict[str, str],
    current: Category | None = None,
) -> Category | None:
    """The active category called `slug`; or `current`, the one a proposal is filed under,
    even when archived since (archived categories keep their proposals)."""
    categories = communities_service.categories(db, community)
    if not slug:
        if categories:
            problems["category"] = gettext("Choose a category.")
        return None
    if current is not None and current.slug == slug:
        return current
    for category in categories:
        if category.slug == slug:
            return category
    problems["category"] = gettext("Choose one of this community's categories.")
    return None


def _check_kind(
    values: ProposalDraft, problems: dict[str, str], clause_numbers: Collection[str]
) -> ProposalKind:
    """The kind, and for amend and repeal a target among the clauses in force."""
    if values.kind not in ProposalKind.__members__:
        problems["kind"] = gettext("Choose new, amend or repeal.")
        return ProposalKind.new
    kind = ProposalKind(values.kind)
    target = values.target_clause.strip()
    if kind == ProposalKind.new:
        return kind
    if not clause_numbers:
        problems["kind"] = gettext("This community has no published clause to amend or repeal yet.")
    elif not target:
        problems["target_clause"] = (
            gettext("Choose the clause to amend.")
            if kind == ProposalKind.amend
            else gettext("Choose the clause to repeal.")
        )
    elif target not in clause_numbers:
        problems["target_clause"] = gettext("Choose one of the clauses in force.")
    return kind


def record_event(
    db: Session,
    proposal: Proposal,
    kind: EventKind,
    actor: User | None,
    now: datetime,
    detail: str = "",
    revision: int | None = None,
) -> None:
    db.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            detail=detail[:500],
            revision_number=revision,
            created_at=now,
        )
    )


def author_ids(db: Session, proposal: Proposal) -> set[int]:
    """Who may act as the proposal's authors, asked once per session (`remembered`)."""
    query = select(ProposalAuthor.user_id).where(ProposalAuthor.proposal_id == proposal.id)
    found = remembered(db, ("authors", proposal.id), lambda: frozenset(db.scalars(query)))
    return set(found)


def authors(db: Session, proposal: Proposal) -> list[ProposalAuthor]:
    return list(
        db.scalars(
            select(ProposalAuthor)
            .where(ProposalAuthor.proposal_id == proposal.id)
            .order_by(ProposalAuthor.role, ProposalAuthor.added_at, ProposalAuthor.id)
        )
    )


def create_proposal(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    values: ProposalDraft,
    now: datetime,
    clause_numbers: Collection[str] = (),
) -> Proposal:
    """A member drafts a proposal: revision 1, the author credited and following it.

    `clause_numbers` are the guidelines' clauses in force, which amend and repeal proposals
    may target (the guidelines, a domain above this one, supply them).
    """
    user = perms.ensure_member(actor, communities_service.membership_of(db, community, actor))
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    problems: dict[str, str] = {}
    _check_text(values, problems)
    tags = _check_tags(values.tags, problems)
    category = _resolve_category(db, community, values.category, problems)
    kind = _check_kind(values, problems, clause_numbers)
    language = content_language(values.language, problems)
    if problems:
        raise ValidationFailed(gettext("Please correct the marked fields."), fields=problems)
    community_permissions.ensure_new_account_may_post(db, user=user, what="proposal", now=now)
    proposal = Proposal(
        community_id=community.id,
        author_id=user.id,
        category_id=category.id if category else None,
        kind=kind,
        # A new norm targets no clause (and a stray value could overflow the column).
        target_clause=None if kind == ProposalKind.new else values.target_clause.strip() or None,
        state=ProposalState.draft,
        title=values.title.strip(),
        summary=values.summary.strip(),
        rationale=values.rationale,
        norm_text=values.norm_text,
        language=language,
        revision_number=1,
        created_at=now,
        listed_at=now,
        last_activity_at=now,
    )
    proposal.tags = [ProposalTag(tag=tag) for tag in tags]
    db.add(proposal)
    db.flush()
    db.add(
        Revision(
            proposal_id=proposal.id,
            number=1,
            title=proposal.title,
            summary=proposal.summary,
            rationale=proposal.rationale,
            norm_text=proposal.norm_text,
            message="First draft",
            author_id=user.id,
            created_at=now,
        )
    )
    db.add(
        ProposalAuthor(
            proposal_id=proposal.id,
            user_id=user.id,
            role=AuthorRole.author,
            added_by_id=user.id,
            added_at=now,
        )
    )
    db.add(Follow(proposal_id=proposal.id, user_id=user.id, created_at=now))
    record_event(db, proposal, EventKind.created, user, now, revision=1)
    db.flush()
    return proposal


def get_proposal(db: Session, proposal_id: int, *, viewer: User | None) -> Proposal:
    proposal = db.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(gettext("There is no such proposal."))
    perms.ensure_can_view(viewer, proposal, author_ids(db, proposal))
    return proposal


def get_in_community(
    db: Session, community: Community, proposal_id: int, *, viewer: User | None
) -> Proposal:
    proposal = get_proposal(db, proposal_id, viewer=viewer)
    if proposal.community_id != community.id:
        raise NotFound(gettext("There is no such proposal."))
    return proposal


def lock_for_change(db: Session, proposal: Proposal) -> None:
    """Hold the proposal's row until the transaction ends, and read it again.

    Two requests changing one proposal at once (a double click, two tabs, two co-authors)
    then act one after the other, the second on what the first left: it finds the draft
    published already, the thread locked already. SQLite ignores FOR UPDATE; its writers are
    serialized anyway.
    """
    db.flush()  # what this request changed already is kept, not read over
    db.execute(select(Proposal.id).where(Proposal.id == proposal.id).with_for_update())
    db.refresh(proposal)


def edit_proposal(
    db: Session,
    *,
    actor: User | None,
    proposal: Proposal,
    base_revision: int,
    values: ProposalDraft,
    message: str,
    now: datetime,
    during_poll: bool = False,
) -> Proposal:
    """Authors change the text: a new revision, unless the edit started from a stale one.

    A poll is on one revision: `during_poll` edits come from the polls service, which starts
    a new round when the text changed.
    """
    lock_for_change(db, proposal)
    user = perms.ensure_can_edit_text(
        actor, proposal, author_ids(db, proposal), during_poll=during_poll
    )
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community, now=now
    )
    problems: dict[str, str] = {}
    _check_text(values, problems)
    tags = _check_tags(values.tags, problems)
    category = _resolve_category(
        db, proposal.community, values.category, problems, current=proposal.category
    )
    if len(message.strip()) > MESSAGE_MAX:
        problems["message"] = gettext("Use at most %(max)s characters.", max=MESSAGE_MAX)
    elif "\x00" in message:
        problems["message"] = gettext(NUL_PROBLEM)
    language = edited_language(values.language, problems, proposal.language)
    if problems:
        raise ValidationFailed(gettext("Please correct the marked fields."), fields=problems)
    if base_revision != proposal.revision_number:
        raise StaleRevision(proposal.revision_number)
    new_text = {
        "title": values.title.strip(),
        "summary": values.summary.strip(),
        "rationale": values.rationale,
        "norm_text": values.norm_text,
    }
    text_changed = any(getattr(proposal, k) != v for k, v in new_text.items())
    if text_changed:
        number = proposal.revision_number + 1
        revision = Revision(
            proposal_id=proposal.id,
            number=number,
            message=message.strip(),
            author_id=user.id,
            created_at=now,
            **new_text,
        )
        try:
            # Two saves from the same base race for the same number; the loser is stale. The
            # revision is added inside the savepoint: begin_nested() flushes what is pending
            # *before* the savepoint starts, and a failure there would end the whole transaction.
            with db.begin_nested():
                db.add(revision)
                db.flush()
        except IntegrityError:
            raise StaleRevision(number) from None
        for key, value in new_text.items():
            setattr(proposal, key, value)
        proposal.revision_number = number
        record_event(db, proposal, EventKind.edited, user, now, message.strip(), revision=number)
    # The language belongs to the proposal, not to a revision: correcting it makes none.
    language_changed = proposal.language != language
    proposal.language = language
    if _set_metadata(db, proposal, category, tags, user, now) or text_changed or language_changed:
        # A save that changed nothing is no activity.
        proposal.last_activity_at = now
    db.flush()
    return proposal


def _set_metadata(
    db: Session,
    proposal: Proposal,
    category: Category | None,
    tags: list[str],
    actor: User,
    now: datetime,
) -> bool:
    """File the proposal under `category` with `tags`; True (and an event) when that changed."""
    category_id = category.id if category else None
    tags = sorted(tags)
    # Compared by id: two categories may carry the same name.
    if proposal.category_id == category_id and proposal.tag_names == tags:
        return False
    if proposal.category_id != category_id:
        proposal.category_id = category_id
        proposal.category = category
    if proposal.tag_names != tags:
        proposal.tags = [ProposalTag(tag=tag) for tag in tags]
    record_event(
        db,
        proposal,
        EventKind.recategorized,
        actor,
        now,
        f"category {category.name if category else 'none'}; tags {', '.join(tags) or 'none'}",
    )
    return True


def moderate_metadata(
    db: Session,
    *,
    actor: User | None,
    proposal: Proposal,
    category: str,
    tags: list[str],
    now: datetime,
    lock: bool | None = None,
    reason: str = "",
) -> Proposal:
    """Moderators re-file a proposal (category, tags) in any state, and may lock or unlock it."""
    user = perms.ensure_can_moderate(
        actor, communities_service.membership_of(db, proposal.community, actor)
    )
    lock_for_change(db, proposal)
    problems: dict[str, str] = {}
    tags = _check_tags(tags, problems)
    resolved = _resolve_category(
        db, proposal.community, category, problems, current=proposal.category
    )
    if lock and not reason.strip():
        problems["reason"] = gettext("Give a reason for the record.")
    elif lock is not None and len(reason.strip()) > MESSAGE_MAX:
        problems["reason"] = gettext("Use at most %(max)s characters.", max=MESSAGE_MAX)
    elif lock is not None and "\x00" in reason:
        problems["reason"] = gettext(NUL_PROBLEM)
    if problems:
        raise ValidationFailed(gettext("Please correct the marked fields."), fields=problems)
    _set_metadata(db, proposal, resolved, tags, user, now)
    if lock is not None:
        set_locked(db, actor=user, proposal=proposal, locked=lock, reason=reason, now=now)
    db.flush()
    return proposal


def set_locked(
    db: Session, *, actor: User | None, proposal: Proposal, locked: bool, reason: str, now: datetime
) -> Proposal:
    """Moderators lock a proposal against edits (and unlock it), with a public reason."""
    user = perms.ensure_can_moderate(
        actor, communities_service.membership_of(db, proposal.community, actor)
    )
    lock_for_change(db, proposal)
    reason = reason.strip()
    if locked and not reason:
        raise ValidationFailed(
            gettext("Say why."), fields={"reason": gettext("Give a reason for the record.")}
        )
    if len(reason) > MESSAGE_MAX:
        # Refused rather than cut short in the public record.
        raise ValidationFailed(
            gettext("The reason is too long."),
            fields={"reason": gettext("Use at most %(max)s characters.", max=MESSAGE_MAX)},
        )
    if "\x00" in reason:
        raise ValidationFailed(
            gettext("The reason is not valid."), fields={"reason": gettext(NUL_PROBLEM)}
        )
    if locked == (proposal.locked_at is not None):
        return proposal
    proposal.locked_at = now if locked else None
    record_event(
        db, proposal, EventKind.locked if locked else EventKind.unlocked, user, now, reason
    )
    moderation_log.record(
        db,
        community=proposal.community_id,
        action=LogAction.proposal_locked if locked else LogAction.proposal_unlocked,
        actor=user,
        now=now,
        reason=reason,
        proposal_id=proposal.id,
    )
    tell.locked(db, proposal=proposal, is_locked=locked, reason=reason, actor=user, now=now)
    db.flush()
    return proposal


def publish(db: Session, *, actor: User | None, proposal: Proposal, now: datetime) -> Proposal:
    """Open a draft for deliberation; voting may open after the community's minimum period."""
    lock_for_change(db, proposal)
    user = perms.ensure_can_edit_text(actor, proposal, author_ids(db, proposal))
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community, now=now
    )
    lifecycle.ensure_can_move(proposal.state, ProposalState.deliberation)
    if not proposal.norm_text.strip():
        raise ValidationFailed(
            gettext("Write the norm text before publishing."),
            fields={"norm_text": gettext("The exact text that would become a guideline clause.")},
        )
    proposal.state = ProposalState.deliberation
    proposal.published_at = now
    proposal.listed_at = now
    proposal.last_activity_at = now
    proposal.voting_may_open_at = now + timedelta(hours=proposal.community.min_deliberation_hours)
    proposal.deadline_at = proposal.voting_may_open_at
    record_event(db, proposal, EventKind.published, user, now, revision=proposal.revision_number)
    tell.published(db, proposal=proposal, actor=user, now=now)
    db.flush()
    return proposal


def withdraw(
    db: Session, *, actor: User | None, proposal: Proposal, reason: str, now: datetime
) -> Proposal:
    """The author withdraws; the proposal stays readable, marked as withdrawn."""
    user = perms.ensure_is_original_author(actor, proposal, N_("withdraw it"))
    lock_for_change(db, proposal)
    lifecycle.ensure_can_move(proposal.state, ProposalState.withdrawn)
    if len(reason.strip()) > MESSAGE_MAX:
        raise ValidationFailed(
            gettext("The reason is too long."),
            fields={"reason": gettext("Use at most %(max)s characters.", max=MESSAGE_MAX)},
        )
    if "\x00" in reason:
        raise ValidationFailed(
            gettext("The reason is not valid."), fields={"reason": gettext(NUL_PROBLEM)}
        )
    proposal.state = ProposalState.withdrawn
    proposal.withdrawn_at = now
    proposal.deadline_at = None
    proposal.last_activity_at = now
    record_event(db, proposal, EventKind.withdrawn, user, now, reason.strip())
    tell.withdrawn(db, proposal=proposal, actor=user, now=now)
    db.flush()
    return proposal


def add_coauthor(
    db: Session, *, actor: User | None, proposal: Proposal, username: str, now: datetime
) -> ProposalAuthor:
    """The author invites a fellow member as co-author: they may edit and are credited."""
    user = perms.ensure_is_original_author(actor, proposal, N_("invite co-authors"))
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community, now=now
    )
    if proposal.state in lifecycle.FINAL:
        raise Conflict(
            gettext(
                "This proposal is %(state)s; its authors are final.",
                state=gettext(proposal.state.label).lower(),
            )
        )
    try:
        invitee = accounts_service.get_user(db, username)
    except NotFound:
        raise ValidationFailed(
            gettext("No such member."),
            fields={
                "username": gettext("There is no user called '%(username)s'.", username=username)
            },
        ) from None
    if communities_service.membership_of(db, proposal.community, invitee) is None:
        raise ValidationFailed(
            gettext("Not a member."),
            fields={
                "username": gettext(
                    "%(invitee)s is not a member of this community.", invitee=invitee.display_name
                )
            },
        )
    already = ValidationFailed(
        gettext("Already an author."),
        fields={
            "username": gettext("%(invitee)s is an author already.", invitee=invitee.display_name)
        },
    )
    if invitee.id in author_ids(db, proposal):
        raise already
    coauthor = ProposalAuthor(
        proposal_id=proposal.id,
        user_id=invitee.id,
        role=AuthorRole.coauthor,
        added_by_id=user.id,
        added_at=now,
    )
    try:
        # A double submit may pass the check above twice; the unique pair decides, alone.
        with db.begin_nested():
            db.add(coauthor)
            db.flush()
    except IntegrityError:
        raise already from None
    record_event(db, proposal, EventKind.coauthor_added, user, now, invitee.username)
    follow(db, actor=invitee, proposal=proposal, now=now)
    db.flush()
    return coauthor


def remove_coauthor(
    db: Session, *, actor: User | None, proposal: Proposal, username: str, now: datetime
) -> None:
    """The author removes a co-author, or a co-author steps down."""
    user = community_permissions.require_user(actor)
    # Permission first: whether a name exists is no business of someone who may not remove.
    if accounts_service.normalize_username(username) != user.username:
        perms.ensure_is_original_author(user, proposal, N_("remove co-authors"))
    lock_for_change(db, proposal)
    if proposal.state in lifecycle.FINAL:
        raise Conflict(
            gettext(
                "This proposal is %(state)s; its authors are final.",
                state=gettext(proposal.state.label).lower(),
            )
        )
    person = accounts_service.get_user(db, username)
    row = db.scalar(
        select(ProposalAuthor).where(
            ProposalAuthor.proposal_id == proposal.id,
            ProposalAuthor.user_id == person.id,
            ProposalAuthor.role == AuthorRole.coauthor,
        )
    )
    if row is None:
        raise NotFound(gettext("%(person)s is not a co-author.", person=person.display_name))
    db.delete(row)
    if perms.is_private(proposal):
        # They can no longer see it, so they must not hear about it either.
        unfollow(db, actor=person, proposal=proposal)
    record_event(db, proposal, EventKind.coauthor_removed, user, now, person.username)
    db.flush()


def follow(db: Session, *, actor: User | None, proposal: Proposal, now: datetime) -> None:
    user = community_permissions.require_user(actor)
    if is_following(db, proposal, user):
        return
    try:
        # Added inside the savepoint, so that a duplicate fails alone (see edit_proposal).
        with db.begin_nested():
            db.add(Follow(proposal_id=proposal.id, user_id=user.id, created_at=now))
            db.flush()
    except IntegrityError:
        pass  # a double click: following already


def unfollow(db: Session, *, actor: User | None, proposal: Proposal) -> None:
    user = community_permissions.require_user(actor)
    db.execute(delete(Follow).where(Follow.proposal_id == proposal.id, Follow.user_id == user.id))


def is_following(db: Session, proposal: Proposal, user: User | None) -> bool:
    if user is None:
        return False
    return (
        db.scalar(
            select(Follow.id).where(Follow.proposal_id == proposal.id, Follow.user_id == user.id)
        )
        is not None
    )


def follower_count(db: Session, proposal: Proposal) -> int:
    return db.scalar(select(func.count(Follow.id)).where(Follow.proposal_id == proposal.id)) or 0


def revisions(db: Session, proposal: Proposal) -> list[Revision]:
    return list(
        db.scalars(
            select(Revision)
            .where(Revision.proposal_id == proposal.id)
            .order_by(Revision.number.desc())
        )
    )


def get_revision(db: Session, proposal: Proposal, number: int) -> Revision:
    revision = db.scalar(
        select(Revision).where(Revision.proposal_id == proposal.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound(gettext("This proposal has no revision %(number)s.", number=number))
    return revision


@dataclass(frozen=True)
class FieldDiff:
    name: str
    pieces: list[word_diff.Piece]

    @property
    def changed(self) -> bool:
        return word_diff.changed(self.pieces)

    @property
    def html(self) -> Markup:
        return word_diff.render_html(self.pieces)

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.name]


@dataclass(frozen=True)
class RevisionDiff:
    old: Revision
    new: Revision
    fields: list[FieldDiff]


def compare(db: Session, proposal: Proposal, old: int, new: int) -> RevisionDiff:
    """Word-level differences of every text field between two revisions."""
    a, b = get_revision(db, proposal, old), get_revision(db, proposal, new)
    fields = [
        FieldDiff(name, word_diff.word_diff(getattr(a, name), getattr(b, name)))
        for name in TEXT_FIELDS
    ]
    return RevisionDiff(a, b, fields)


def timeline(db: Session, proposal: Proposal) -> list[ProposalEvent]:
    return list(
        db.scalars(
            select(ProposalEvent)
            .where(ProposalEvent.proposal_id == proposal.id)
            .order_by(ProposalEvent.created_at, ProposalEvent.id)
        )
    )


@dataclass(frozen=True)
class ProposalFilter:
    state: str = ""
    category: str = ""
    tag: str = ""
    q: str = ""
    sort: Sort = "newest"
    language: str = ""


@dataclass(frozen=True)
class ProposalPage:
    items: list[Proposal]
    next_cursor: str | None


def check_filter(raw: dict[str, str]) -> ProposalFilter:
    """Validate list filters from a query string; unknown values are field errors."""
    problems: dict[str, str] = {}
    state = raw.get("state", "").strip()
    if state and state not in ProposalState.__members__:
        problems["state"] = gettext(
            "Choose one of: %(choices)s.", choices=", ".join(s.value for s in ProposalState)
        )
    sort = raw.get("sort", "").strip() or "newest"
    if sort not in SORTS:
        problems["sort"] = gettext("Choose newest, active or closing.")
    q = raw.get("q", "").strip()
    if len(q) > 200:
        problems["q"] = gettext("Use at most 200 characters.")
    language = raw.get("language", "").strip()
    if language:
        language = content_language(language, problems)
    for name in ("category", "tag"):
        # Compared in SQL, where PostgreSQL refuses NUL; no category or tag has one.
        if "\x00" in raw.get(name, ""):
            problems[name] = gettext("No category or tag has this name.")
    if problems:
        raise ValidationFailed(gettext("The filter is not valid."), fields=problems)
    # A tag typed as in the form ("#Fan Art"); only the first one counts, none when empty (",").
    tags = parse_tags(raw.get("tag", ""))
    return ProposalFilter(
        state=state,
        category=raw.get("category", "").strip(),
        tag=tags[0] if tags else "",
        q=q,
        sort=sort,  # type: ignore[arg-type]
        language=language,
    )


# Neither database can tell well how many proposals a search word (or, for SQLite, a tag or a
# category) picks: SQLite keeps no such statistics, and PostgreSQL guesses a fixed share for a
# word it has not sampled. So the service counts each narrowing filter (up to this cap) and
# chooses the plan itself: the smallest selective filter drives the query and the page is
# sorted in memory; when none is selective, the (community, sort) index drives and the first
# page of matches comes after a short walk. Either way a page costs about the same at any size.
SELECTIVE_MATCHES = 300


def _search_words(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())[:10]


@dataclass(frozen=True)
class _Narrowing:
    """A filter that picks few or many proposals: as ids to start from, or as a row test."""

    ids: Select[int]
    test: ColumnElement[bool]


def _search(db: Session, words: list[str]) -> _Narrowing:
    """Proposals whose title, summary or norm text has every word (as a prefix)."""
    if db.get_bind().dialect.name == "postgresql":
        matches: ColumnElement[bool] = text(
            "proposals.search_vector @@ to_tsquery('simple', :tsquery)"
        ).bindparams(tsquery=" & ".join(f"{w}:*" for w in words))  # type: ignore[assignment]
        return _Narrowing(select(Proposal.id).where(matches), matches)
    match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    ids = (
        select(literal_column("rowid", Integer))
        .select_from(text("proposals_fts"))
        .where(text("proposals_fts MATCH :match").bindparams(match=match))
    )
    return _Narrowing(ids, (Proposal.id + 0).in_(ids))


def _narrowings(db: Session, community: Community, filters: ProposalFilter) -> list[_Narrowing]:
    narrowings: list[_Narrowing] = []
    words = _search_words(filters.q)
    if words:
        narrowings.append(_search(db, words))
    if filters.tag:
        narrowings.append(
            _Narrowing(
                select(ProposalTag.proposal_id).where(ProposalTag.tag == filters.tag),
                exists().where(
                    ProposalTag.proposal_id == Proposal.id, ProposalTag.tag == filters.tag
                ),
            )
        )
    if filters.category:
        category_id = (
            select(Category.id)
            .where(Category.community_id == community.id, Category.slug == filters.category)
            .scalar_subquery()
        )
        narrowings.append(
            _Narrowing(
                select(Proposal.id).where(Proposal.category_id == category_id),
                Proposal.category_id + 0 == category_id,
            )
        )
    for column, value in ((Proposal.state, filters.state), (Proposal.language, filters.language)):
        if value:
            narrowings.append(
                _Narrowing(
                    select(Proposal.id).where(
                        Proposal.community_id == community.id, column == value
                    ),
                    # `|| ''`: a string's "+ 0", so the sort index keeps the plan.
                    type_coerce(column, String).concat("") == value,
                )
            )
    return narrowings


def _filtered(db: Session, community: Community, filters: ProposalFilter) -> Select[Proposal]:
    # One short query per filter fetches its first ids: up to the cap they are the whole match.
    fetched = [
        (list(db.scalars(n.ids.limit(SELECTIVE_MATCHES + 1))), n)
        for n in _narrowings(db, community, filters)
    ]
    selective = [(found, n) for found, n in fetched if len(found) <= SELECTIVE_MATCHES]
    # "+ 0" makes a column useless as an index key: that is how the plan is chosen.
    if selective:
        found, driver = min(selective, key=lambda pair: len(pair[0]))
        # Concrete ids: primary-key lookups, whatever a planner would guess for a subquery.
        query = select(Proposal).where(
            Proposal.community_id + 0 == community.id, Proposal.id.in_(found)
        )
    else:
        driver = None
        query = select(Proposal).where(Proposal.community_id == community.id)
    for _, narrowing in fetched:
        if narrowing is not driver:
            query = query.where(narrowing.test)
    return query


# Ids are compared with a bound integer, which the databases take up to 64 bits.
_ID_LIMIT = 2**63


def _cursor_values(values: list[object]) -> tuple[datetime, int]:
    """The sort value (an instant, compared in UTC) and the id of the last item seen."""
    try:
        at = datetime.fromisoformat(str(values[0]))
        # In UTC, as stored: SQLite compares the text, so another offset would misplace the page.
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        after_id = int(str(values[1]))
        if not -_ID_LIMIT < after_id < _ID_LIMIT:
            raise ValueError(after_id)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            gettext("The cursor is not valid."),
            fields={"cursor": gettext("Use the next_cursor of a previous page.")},
        ) from None
    return at, after_id


def list_proposals(
    db: Session,
    *,
    community: Community,
    viewer: User | None,
    filters: ProposalFilter,
    limit: int,
    cursor: str | None = None,
) -> ProposalPage:
    """One page of a community's proposals, filtered, searched and sorted, by keyset."""
    query = _filtered(db, community, filters)
    # Drafts, and drafts withdrawn unpublished, only for their authors (as perms.is_private).
    public = and_(
        Proposal.state != ProposalState.draft,
        or_(Proposal.state != ProposalState.withdrawn, Proposal.published_at.is_not(None)),
    )
    if viewer is not None:
        own = (
            exists()
            .where(ProposalAuthor.proposal_id == Proposal.id)
            .where(ProposalAuthor.user_id == viewer.id)
        )
        query = query.where(or_(public, own))
    else:
        query = query.where(public)

    after = paging.decode(cursor, size=2)
    at, after_id = _cursor_values(after) if after else (None, 0)
    if filters.sort == "closing":
        column = Proposal.deadline_at
        query = query.where(column.is_not(None)).order_by(column.asc(), Proposal.id.asc())
        if at is not None:
            query = query.where(tuple_(column, Proposal.id) > tuple_(at, after_id))
    else:
        column = Proposal.listed_at if filters.sort == "newest" else Proposal.last_activity_at
        query = query.order_by(column.desc(), Proposal.id.desc())
        if at is not None:
            query = query.where(tuple_(column, Proposal.id) < tuple_(at, after_id))
    items = list(db.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        value = {
            "closing": last.deadline_at,
            "newest": last.listed_at,
            "active": last.last_activity_at,
        }[filters.sort]
        assert value is not None
        next_cursor = paging.encode(value.isoformat(), last.id)
    return ProposalPage(items, next_cursor)
