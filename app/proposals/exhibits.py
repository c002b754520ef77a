"""Exhibits: example works attached to a proposal, each with the stance it illustrates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n
from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.errors import NotFound, ValidationFailed
from app.i18n import gettext as _
from app.proposals import permissions as perms
from app.proposals import service
from app.proposals.models import Exhibit, ExhibitStance, Proposal, ProposalAuthor, ProposalState
from app.remembered import remembered
from app.text import NUL_PROBLEM
from app.works.models import Work

NOTE_MAX = 1000
STANCE_ORDER = case(
    {s.value: i for i, s in enumerate(ExhibitStance)},
    value=Exhibit.stance,
    else_=len(ExhibitStance),
)


@dataclass(frozen=True)
class Citation:
    """A proposal that exhibits a work, and the stance it takes on it."""

    proposal: Proposal
    stance: ExhibitStance
    note: str


def add_exhibit(
    db: Session,
    *,
    actor: User | None,
    proposal: Proposal,
    work_id: int | None,
    stance: str,
    note: str,
    now: datetime,
) -> Exhibit:
    """Attach a work of the proposal's community as an example; each work at most once."""
    membership = communities_service.membership_of(db, proposal.community, actor)
    user = perms.ensure_can_add_exhibit(
        actor, proposal, membership, service.author_ids(db, proposal)
    )
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community, now=now
    )
    problems: dict[str, str] = {}
    work = db.get(Work, work_id) if work_id is not None and 1 <= work_id < 2**63 else None
    if work is None or work.community_id != proposal.community_id:
        problems["work"] = _("Choose a work registered in this community.")
    if stance not in ExhibitStance.__members__:
        problems["stance"] = _("Choose acceptable, unacceptable or borderline.")
    if len(note) > NOTE_MAX:
        problems["note"] = _("Use at most %(max)s characters.", max=i18n.number(NOTE_MAX))
    elif "\x00" in note:
        problems["note"] = _(NUL_PROBLEM)
    already = ValidationFailed(
        _("Already exhibited."),
        fields={"work": _("This work is already exhibited on this proposal.")},
    )
    if not problems and work is not None:
        duplicate = db.scalar(
            select(Exhibit.id).where(Exhibit.proposal_id == proposal.id, Exhibit.work_id == work.id)
        )
        if duplicate is not None:
            raise already
    if problems or work is None:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    exhibit = Exhibit(
        proposal_id=proposal.id,
        work_id=work.id,
        stance=ExhibitStance(stance),
        note=note.strip(),
        added_by_id=user.id,
        created_at=now,
    )
    try:
        # A double submit may pass the check above twice; the unique pair decides, alone.
        with db.begin_nested():
            db.add(exhibit)
            db.flush()
    except IntegrityError:
        raise already from None
    proposal.last_activity_at = now
    db.flush()
    return exhibit


def get_exhibit(db: Session, proposal: Proposal, exhibit_id: int) -> Exhibit:
    exhibit = db.get(Exhibit, exhibit_id) if 1 <= exhibit_id < 2**63 else None
    if exhibit is None or exhibit.proposal_id != proposal.id:
        raise NotFound(_("This proposal has no such example work."))
    return exhibit


def remove_exhibit(db: Session, *, actor: User | None, exhibit: Exhibit) -> None:
    """Who attached it, an author of the proposal, or a moderator takes it off."""
    proposal = db.get(Proposal, exhibit.proposal_id)
    assert proposal is not None
    membership = communities_service.membership_of(db, proposal.community, actor)
    user = perms.ensure_can_remove_exhibit(
        actor, exhibit.added_by_id, membership, service.author_ids(db, proposal)
    )
    community_permissions.ensure_can_participate(db, actor=user, community=proposal.community)
    # Held until the transaction ends: of two removals at once, the second finds it gone.
    if db.scalar(select(Exhibit.id).where(Exhibit.id == exhibit.id).with_for_update()) is None:
        raise NotFound(_("This proposal has no such example work."))
    db.delete(exhibit)
    db.flush()


def exhibits(db: Session, proposal: Proposal) -> list[Exhibit]:
    """The proposal's example works: acceptable first, then unacceptable, then borderline.
    Asked once per session (`remembered`): the page and its thread both list them."""
    query = (
        select(Exhibit)
        .where(Exhibit.proposal_id == proposal.id)
        .order_by(STANCE_ORDER, Exhibit.created_at, Exhibit.id)
    )
    found = remembered(db, ("exhibits", proposal.id), lambda: tuple(db.scalars(query)))
    return list(found)


def removable_ids(
    db: Session, proposal: Proposal, items: list[Exhibit], viewer: User | None
) -> set[int]:
    """The exhibits `viewer` may remove."""
    if viewer is None:
        return set()
    membership = communities_service.membership_of(db, proposal.community, viewer)
    author_ids = service.author_ids(db, proposal)
    return {
        e.id
        for e in items
        if perms.can_remove_exhibit(viewer, e.added_by_id, membership, author_ids)
    }


def can_add(db: Session, proposal: Proposal, viewer: User | None) -> bool:
    membership = communities_service.membership_of(db, proposal.community, viewer)
    return perms.can_add_exhibit(viewer, proposal, membership, service.author_ids(db, proposal))


def citing_proposals(db: Session, work: Work, viewer: User | None) -> list[Citation]:
    """The proposals exhibiting `work` that `viewer` may see (never someone else's draft)."""
    # As perms.is_private: drafts, and drafts withdrawn unpublished, only for their authors.
    public = and_(
        Proposal.state != ProposalState.draft,
        or_(Proposal.state != ProposalState.withdrawn, Proposal.published_at.is_not(None)),
    )
    visible = public
    if viewer is not None:
        own = exists().where(
            ProposalAuthor.proposal_id == Proposal.id, ProposalAuthor.user_id == viewer.id
        )
        visible = or_(public, own)
    rows = db.execute(
        select(Proposal, Exhibit.stance, Exhibit.note)
        .join(Exhibit, Exhibit.proposal_id == Proposal.id)
        .where(Exhibit.work_id == work.id, visible)
        .order_by(Proposal.last_activity_at.desc(), Proposal.id.desc())
    ).all()
    return [Citation(row[0], row[1], row[2]) for row in rows]
