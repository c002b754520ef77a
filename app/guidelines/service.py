"""Published community guidelines: ratification, versions, clauses with provenance, as-of reads.

The document is never edited in place. Ratifying a passed proposal (or importing existing
rules once) publishes the next document version: a clause version is added, and the one it
replaces is closed at that version. Reading the rules as of a version or a date is a range
query over clause versions; the current rules are those no version has closed yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, raiseload

from app import i18n
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Category, Community, LogAction, Membership, Role
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.guidelines.models import (
    Change,
    Clause,
    ClauseCredit,
    ClauseTag,
    ClauseVersion,
    Credit,
    Decision,
    DocumentVersion,
    Ratification,
    Section,
    Source,
    Translation,
)
from app.i18n import CONTENT_LANGUAGES, N_, content_language, gettext
from app.notifications import tell
from app.polls import record as poll_record
from app.polls import service as polls_service
from app.polls.models import Poll
from app.proposals import diff as word_diff
from app.proposals import lifecycle
from app.proposals import service as proposals_service
from app.proposals.models import (
    AuthorRole,
    EventKind,
    Proposal,
    ProposalAuthor,
    ProposalKind,
    ProposalState,
    Revision,
)
from app.text import NUL_PROBLEM, public_reason

#: Applicability tags moderators put on clauses, so creators can filter to their kind of work.
TAGS = {
    "image": N_("Images"),
    "audio": N_("Audio and music"),
    "video": N_("Video"),
    "text": N_("Text and stories"),
    "model3d": N_("3D models"),
    "ai_model": N_("AI models"),
    "ai-generated": N_("AI-generated works"),
    "commercial": N_("Commercial use"),
}
GENERAL_SECTION = "General"
NOTE_MAX = 500
IMPORT_MAX = 100_000
TRANSLATION_TITLE_MAX = 140
TRANSLATION_TEXT_MAX = proposals_service.TEXT_MAX
CLAUSE_NUMBER = re.compile(r"^\d{1,3}\.\d{1,3}$")


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseView:
    clause: Clause
    version: ClauseVersion
    tags: list[str]

    @property
    def number(self) -> str:
        return self.clause.number


@dataclass(frozen=True)
class SectionView:
    section: Section
    clauses: list[ClauseView]


@dataclass(frozen=True)
class Document:
    """The guidelines as of one document version (the current one unless asked otherwise)."""

    community: Community
    version: DocumentVersion | None
    latest: int
    sections: list[SectionView]
    tag: str | None = None
    as_of: date | None = None

    @property
    def is_current(self) -> bool:
        return self.version is None or self.version.number == self.latest

    @property
    def clauses(self) -> list[ClauseView]:
        return [c for s in self.sections for c in s.clauses]


def latest_number(db: Session, community: Community) -> int:
    """The current document version's number; 0 before anything was published."""
    return (
        db.scalar(
            select(func.max(DocumentVersion.number)).where(
                DocumentVersion.community_id == community.id
            )
        )
        or 0
    )


def versions(
    db: Session, community: Community, *, limit: int | None = None, before: int | None = None
) -> list[DocumentVersion]:
    """The changelog, newest first (versions numbered below `before`, when given)."""
    query = (
        select(DocumentVersion)
        .where(DocumentVersion.community_id == community.id)
        .order_by(DocumentVersion.number.desc())
    )
    if before is not None:
        query = query.where(DocumentVersion.number < before)
    return list(db.scalars(query.limit(limit) if limit else query))


def get_version(db: Session, community: Community, number: int) -> DocumentVersion:
    found = db.scalar(
        select(DocumentVersion).where(
            DocumentVersion.community_id == community.id, DocumentVersion.number == number
        )
    )
    if found is None:
        raise NotFound(gettext("These guidelines have no version %(number)s.", number=number))
    return found


def parse_as_of(raw: str) -> date:
    """A date typed in a URL (`2026-05-01`); anything else is a field error."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            gettext("The date is not valid."),
            fields={"as_of": gettext("Use a date like 2026-05-01.")},
        ) from None


def version_as_of(db: Session, community: Community, day: date) -> DocumentVersion:
    """The version in force at the end of `day` (UTC)."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    found = db.scalar(
        select(DocumentVersion)
        .where(DocumentVersion.community_id == community.id, DocumentVersion.published_at < end)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )
    if found is None:
        first = db.scalar(
            select(DocumentVersion.published_at)
            .where(DocumentVersion.community_id == community.id)
            .order_by(DocumentVersion.number)
            .limit(1)
        )
        problem = (
            gettext(
                "The guidelines were first published on %(first)s; choose that day or later.",
                first=f"{first:%Y-%m-%d}",
            )
            if first
            else gettext("These guidelines have not been published yet.")
        )
        raise ValidationFailed(problem, fields={"as_of": problem})
    return found


def _in_force(community: Community, number: int | None) -> Select[ClauseVersion]:
    """Clause versions in force at document version `number` (None: now).

    Only the text is loaded: the provenance (proposal, tally, objections) weighs more than the
    clause itself and grows with the history behind it; the clause's own pages load it.
    """
    query = (
        select(ClauseVersion)
        .options(
            raiseload(ClauseVersion.proposal),
            defer(ClauseVersion.tally, raiseload=True),
            defer(ClauseVersion.objections, raiseload=True),
        )
        .where(ClauseVersion.community_id == community.id, ClauseVersion.change != Change.repealed)
    )
    if number is None:
        return query.where(ClauseVersion.to_version.is_(None))
    return query.where(
        ClauseVersion.from_version <= number,
        or_(ClauseVersion.to_version.is_(None), ClauseVersion.to_version > number),
    )


def tags_of(db: Session, clause_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in clause_ids}
    if clause_ids:
        for clause_id, tag in db.execute(
            select(ClauseTag.clause_id, ClauseTag.tag)
            .where(ClauseTag.clause_id.in_(clause_ids))
            .order_by(ClauseTag.tag)
        ):
            found[clause_id].append(tag)
    return found


def check_tag(tag: str) -> str | None:
    tag = tag.strip()
    if not tag:
        return None
    if tag not in TAGS:
        raise ValidationFailed(
            gettext("Unknown tag."),
            fields={"tag": gettext("Choose one of: %(choices)s.", choices=", ".join(TAGS))},
        )
    return tag


def document(
    db: Session,
    community: Community,
    *,
    version: int | None = None,
    as_of: date | None = None,
    tag: str | None = None,
) -> Document:
    """The guidelines now, at a version, or as of a date; `tag` keeps the clauses that apply
    to that kind of work (tagged with it, or untagged: those apply to every work)."""
    latest = latest_number(db, community)
    chosen: DocumentVersion | None = None
    if as_of is not None:
        chosen = version_as_of(db, community, as_of)
    elif version is not None:
        chosen = get_version(db, community, version)
    elif latest:
        chosen = get_version(db, community, latest)
    number = None if chosen is None or chosen.number == latest else chosen.number
    rows = list(db.scalars(_in_force(community, number)))
    tags = tags_of(db, [cv.clause_id for cv in rows])
    if tag:
        rows = [cv for cv in rows if not tags[cv.clause_id] or tag in tags[cv.clause_id]]
    sections: dict[int, SectionView] = {}
    for cv in sorted(rows, key=lambda v: (v.clause.section.number, v.clause.position)):
        section = cv.clause.section
        sections.setdefault(section.id, SectionView(section, []))
        sections[section.id].clauses.append(ClauseView(cv.clause, cv, tags[cv.clause_id]))
    return Document(community, chosen, latest, list(sections.values()), tag, as_of)


def current_clauses(db: Session, community: Community) -> list[ClauseView]:
    """The clauses in force now: what amend and repeal proposals may target."""
    return document(db, community).clauses


def clause_numbers(db: Session, community: Community) -> set[str]:
    """The numbers of the clauses in force: the targets amend and repeal proposals may name."""
    return {
        number
        for (number,) in db.execute(
            select(Clause.number)
            .join(ClauseVersion, ClauseVersion.clause_id == Clause.id)
            .where(
                ClauseVersion.community_id == community.id,
                ClauseVersion.to_version.is_(None),
                ClauseVersion.change != Change.repealed,
            )
        )
    }


def get_clause(db: Session, community: Community, number: str) -> Clause:
    clause = (
        db.scalar(
            select(Clause).where(Clause.community_id == community.id, Clause.number == number)
        )
        if CLAUSE_NUMBER.match(number)
        else None
    )
    if clause is None:
        raise NotFound(gettext("These guidelines have no clause %(number)s.", number=number))
    return clause


def history(db: Session, clause: Clause) -> list[ClauseVersion]:
    """Every version of a clause, newest first."""
    return list(
        db.scalars(
            select(ClauseVersion)
            .where(ClauseVersion.clause_id == clause.id)
            .order_by(ClauseVersion.version.desc())
        )
    )


def clause_version(db: Session, clause: Clause, from_version: int) -> ClauseVersion:
    """The version of `clause` that document version `from_version` brought in."""
    found = db.scalar(
        select(ClauseVersion).where(
            ClauseVersion.clause_id == clause.id, ClauseVersion.from_version == from_version
        )
    )
    if found is None:
        raise NotFound(
            gettext(
                "Clause %(number)s did not change in version %(from_version)s.",
                number=clause.number,
                from_version=from_version,
            )
        )
    return found


def credits(db: Session, version: ClauseVersion) -> list[ClauseCredit]:
    order = {credit: n for n, credit in enumerate(Credit)}
    return sorted(
        db.scalars(select(ClauseCredit).where(ClauseCredit.clause_version_id == version.id)),
        key=lambda c: (order[c.credit], c.name.lower()),
    )


def citation(version: ClauseVersion) -> str:
    """What a creator pastes next to their work."""
    return (
        f"Guideline {version.clause.number}, version {version.from_version}, "
        f"in force since {version.effective_from:%Y-%m-%d}"
    )


def made_by(db: Session, proposal: Proposal) -> ClauseVersion | None:
    """The clause version a ratified proposal made."""
    return db.scalar(
        select(ClauseVersion)
        .where(ClauseVersion.proposal_id == proposal.id)
        .order_by(ClauseVersion.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ClauseChange:
    number: str
    title: str
    change: str  # "added", "amended", "repealed"
    old: str
    new: str

    @property
    def pieces(self) -> list[word_diff.Piece]:
        return word_diff.word_diff(self.old, self.new)

    @property
    def html(self) -> Markup:
        return word_diff.render_html(self.pieces)


@dataclass(frozen=True)
class DocumentDiff:
    old: DocumentVersion
    new: DocumentVersion
    changes: list[ClauseChange] = field(default_factory=list)


def diff(db: Session, community: Community, old: int, new: int) -> DocumentDiff:
    """What changed between two document versions, clause by clause."""
    before, after = get_version(db, community, old), get_version(db, community, new)
    latest = latest_number(db, community)

    def texts(number: int) -> dict[str, ClauseVersion]:
        rows = db.scalars(_in_force(community, None if number == latest else number))
        return {cv.clause.number: cv for cv in rows}

    a, b = texts(old), texts(new)
    changes = []
    for number in sorted(set(a) | set(b), key=_clause_key):
        was, now = a.get(number), b.get(number)
        if was is not None and now is not None and was.id == now.id:
            continue
        if was is None and now is not None:
            changes.append(ClauseChange(number, now.clause.title, "added", "", now.text))
        elif was is not None and now is None:
            changes.append(ClauseChange(number, was.clause.title, "repealed", was.text, ""))
        elif was is not None and now is not None:
            changes.append(ClauseChange(number, now.clause.title, "amended", was.text, now.text))
    return DocumentDiff(before, after, changes)


def proposed_change(db: Session, proposal: Proposal) -> ClauseChange | None:
    """What an amend or repeal proposal would do to the clause in force, for a diff."""
    if proposal.kind == ProposalKind.new or not proposal.target_clause:
        return None
    found = _in_force_by_number(db, proposal.community_id, {proposal.target_clause})
    return _change(proposal, found.get(proposal.target_clause))


def _in_force_by_number(
    db: Session, community_id: int, numbers: set[str]
) -> dict[str, ClauseVersion]:
    """The versions in force of the clauses numbered `numbers`, by number."""
    if not numbers:
        return {}
    rows = db.scalars(
        select(ClauseVersion)
        .join(Clause, Clause.id == ClauseVersion.clause_id)
        .where(
            Clause.community_id == community_id,
            Clause.number.in_(numbers),
            ClauseVersion.to_version.is_(None),
            ClauseVersion.change != Change.repealed,
        )
    )
    return {version.clause.number: version for version in rows}


def _change(proposal: Proposal, current: ClauseVersion | None) -> ClauseChange | None:
    if current is None:
        return None
    clause = current.clause
    if proposal.kind == ProposalKind.repeal:
        return ClauseChange(clause.number, clause.title, "repealed", current.text, "")
    return ClauseChange(clause.number, clause.title, "amended", current.text, proposal.norm_text)


def _clause_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


# --- Translations -------------------------------------------------------------------------


@dataclass(frozen=True)
class TranslationView:
    """A translation as a reader gets it: of the version shown, or of an earlier one (stale)."""

    translation: Translation
    #: The clause version (1, 2, ...) it was made from.
    translated_version: int
    out_of_date: bool

    @property
    def language(self) -> str:
        return self.translation.language


def wanted_language(raw: str | None, default: str) -> str:
    """The language a reader asks for (`?lang=`), else `default`; an unknown one is refused."""
    if raw is None or not raw.strip():
        return content_language(default) or default
    found = content_language(raw)
    if found is None:
        raise ValidationFailed(
            gettext("Unknown language."),
            fields={
                "lang": gettext("Choose one of: %(choices)s.", choices=", ".join(CONTENT_LANGUAGES))
            },
        )
    return found


def translations_for(
    db: Session, shown: list[ClauseVersion], language: str
) -> dict[int, TranslationView]:
    """Per clause (by id), the translation into `language` of the version shown, else the newest
    translation of an earlier version (out of date); none where the text is in `language`
    already. One query, however many clauses."""
    wanted = {cv.clause_id: cv for cv in shown if cv.language != language}
    if not wanted:
        return {}
    found: dict[int, TranslationView] = {}
    rows = db.execute(
        select(Translation, ClauseVersion.version)
        .join(ClauseVersion, ClauseVersion.id == Translation.version_id)
        .where(Translation.clause_id.in_(list(wanted)), Translation.language == language)
        .order_by(ClauseVersion.version.desc())
    )
    for translation, number in rows:
        version = wanted[translation.clause_id]
        if translation.clause_id in found or number > version.version:
            continue
        found[translation.clause_id] = TranslationView(
            translation, number, out_of_date=translation.version_id != version.id
        )
    return found


def translation_languages(db: Session, community: Community) -> list[str]:
    """The languages the community's clauses have translations in, in the usual order."""
    have = set(
        db.scalars(
            select(Translation.language).where(Translation.community_id == community.id).distinct()
        )
    )
    return [tag for tag in CONTENT_LANGUAGES if tag in have]


def translations_of(db: Session, clause: Clause) -> list[TranslationView]:
    """Every translation of a clause, by language, newest version first."""
    newest = newest_version(db, clause)
    current = newest.id if newest is not None else None
    order = {tag: n for n, tag in enumerate(CONTENT_LANGUAGES)}
    rows = db.execute(
        select(Translation, ClauseVersion.version)
        .join(ClauseVersion, ClauseVersion.id == Translation.version_id)
        .where(Translation.clause_id == clause.id)
    )
    views = [
        TranslationView(translation, number, out_of_date=translation.version_id != current)
        for translation, number in rows
    ]
    return sorted(
        views, key=lambda v: (order.get(v.language, len(order)), v.language, -v.translated_version)
    )


def newest_version(db: Session, clause: Clause) -> ClauseVersion | None:
    """The clause's newest version (a repeal included), the one nothing superseded yet."""
    return db.scalar(
        select(ClauseVersion).where(
            ClauseVersion.clause_id == clause.id, ClauseVersion.to_version.is_(None)
        )
    )


def _current_text(db: Session, clause: Clause) -> ClauseVersion:
    """The clause's version in force, which translations are made from."""
    current = newest_version(db, clause)
    if current is None or current.change == Change.repealed:
        raise Conflict(
            gettext(
                "Clause %(number)s is not in force; there is no text to translate.",
                number=clause.number,
            )
        )
    return current


def save_translation(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    clause: Clause,
    language: str,
    title: str,
    text: str,
    now: datetime,
) -> Translation:
    """Moderators add (or correct) the translation of a clause's current text into a language."""
    user = community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, community, actor)
    )
    # One save at a time per clause: two saves at once would both insert.
    db.execute(select(Clause.id).where(Clause.id == clause.id).with_for_update())
    current = _current_text(db, clause)
    problems: dict[str, str] = {}
    tag = content_language(language)
    if tag is None:
        problems["language"] = gettext(
            "Choose one of: %(choices)s.", choices=", ".join(CONTENT_LANGUAGES)
        )
    elif tag == current.language:
        problems["language"] = gettext(
            "The clause is written in this language (%(tag)s); choose another one.", tag=tag
        )
    title, text = title.strip(), text.strip()
    if not 1 <= len(title) <= TRANSLATION_TITLE_MAX:
        problems["title"] = gettext("Use 1 to %(max)s characters.", max=TRANSLATION_TITLE_MAX)
    if not text:
        problems["text"] = gettext("Write the translated text.")
    elif len(text) > TRANSLATION_TEXT_MAX:
        problems["text"] = gettext(
            "Use at most %(max)s characters.", max=i18n.number(TRANSLATION_TEXT_MAX)
        )
    for name, value in (("title", title), ("text", text)):
        if "\x00" in value:
            problems[name] = gettext(NUL_PROBLEM)
    if problems or tag is None:
        raise ValidationFailed(gettext("The translation was not saved."), fields=problems)
    found = db.scalar(
        select(Translation).where(Translation.version_id == current.id, Translation.language == tag)
    )
    if found is None:
        found = Translation(
            version_id=current.id,
            clause_id=clause.id,
            community_id=community.id,
            language=tag,
            created_at=now,
        )
        db.add(found)
    found.title = title
    found.text = text
    found.translator_id = user.id
    found.updated_at = now
    db.flush()
    return found


def delete_translation(
    db: Session, *, actor: User | None, community: Community, clause: Clause, language: str
) -> int:
    """Moderators remove a clause's translations into a language (earlier versions' too, so
    that a stale one does not take its place); how many went."""
    community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, community, actor)
    )
    tag = content_language(language)
    db.execute(select(Clause.id).where(Clause.id == clause.id).with_for_update())
    found = list(
        db.scalars(
            select(Translation).where(
                Translation.clause_id == clause.id, Translation.language == (tag or language)
            )
        )
    )
    if not found:
        raise NotFound(
            gettext(
                "Clause %(number)s has no translation into %(language)s.",
                number=clause.number,
                language=tag or language,
            )
        )
    for translation in found:
        db.delete(translation)
    db.flush()
    return len(found)


# --- Writing: tags, import ----------------------------------------------------------------


def set_tags(
    db: Session, *, actor: User | None, community: Community, clause: Clause, tags: list[str]
) -> list[str]:
    """Moderators say which kinds of work a clause applies to (none: every work)."""
    community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, community, actor)
    )
    chosen = sorted({t.strip() for t in tags if t.strip()})
    unknown = [t for t in chosen if t not in TAGS]
    if unknown:
        raise ValidationFailed(
            gettext("Unknown tags."),
            fields={"tags": gettext("Choose one of: %(choices)s.", choices=", ".join(TAGS))},
        )
    # One save at a time per clause (the clause's row is held until the transaction ends):
    # two saves at once would both delete nothing and both insert the same tags.
    db.execute(select(Clause.id).where(Clause.id == clause.id).with_for_update())
    db.execute(delete(ClauseTag).where(ClauseTag.clause_id == clause.id))
    db.add_all(ClauseTag(clause_id=clause.id, tag=tag) for tag in chosen)
    db.flush()
    return chosen


_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*#*\s*$")
_ITEM = re.compile(r"^(?:\d+[.)]|[-*+])\s+(.*)$")


@dataclass(frozen=True)
class ImportedClause:
    title: str
    text: str


def parse_rules(markdown: str) -> list[tuple[str, list[ImportedClause]]]:
    """Existing rules in Markdown: `##` headings are sections; each list item or paragraph
    under one is a clause. A leading `**bold phrase**` becomes the clause's title (and leaves
    the text), else the first sentence is the title and the text stays whole."""
    sections: list[tuple[str, list[ImportedClause]]] = []
    current: list[str] = []

    def close_item() -> None:
        # An item's wrapped lines are one paragraph.
        text = " ".join(current).strip()
        current.clear()
        if not text:
            return
        if not sections:
            sections.append((GENERAL_SECTION, []))
        sections[-1][1].append(_clause(text))

    for line in markdown.replace("\r\n", "\n").split("\n"):
        heading = _HEADING.match(line)
        item = _ITEM.match(line)
        if heading:
            close_item()
            sections.append((heading.group(1).strip()[:80], []))
        elif item:
            close_item()
            current.append(item.group(1).strip())
        elif not line.strip():
            close_item()
        else:
            current.append(line.strip())
    close_item()
    return [(title, clauses) for title, clauses in sections if clauses]


def _clause(text: str) -> ImportedClause:
    bold = re.match(r"^\*\*(.+?)\*\*\s*", text)
    if bold and text[bold.end() :].strip():
        return ImportedClause(_short(bold.group(1)), text[bold.end() :].strip())
    return ImportedClause(_short(re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]), text)


def _short(title: str) -> str:
    title = re.sub(r"[*_`]", "", title).strip().rstrip(".")
    return title[:137] + "…" if len(title) > 140 else title


def import_rules(
    db: Session, *, actor: User | None, community: Community, markdown: str, now: datetime
) -> DocumentVersion:
    """Moderators bootstrap the guidelines from the rules the community already had: once."""
    user = community_permissions.ensure_can_moderate(
        actor, communities_service.membership_of(db, community, actor)
    )
    problem = None
    if "\x00" in markdown:
        problem = gettext(NUL_PROBLEM)
    elif len(markdown) > IMPORT_MAX:
        problem = gettext("Use at most %(max)s characters.", max=i18n.number(IMPORT_MAX))
    parsed = [] if problem else parse_rules(markdown)
    if not problem and not parsed:
        problem = gettext(
            "Write at least one rule: a `## Section` heading with list items under it."
        )
    if problem:
        raise ValidationFailed(
            gettext("The rules were not imported."), fields={"markdown": problem}
        )
    _lock(db, community)
    if latest_number(db, community):
        raise Conflict(
            gettext("These guidelines are published already; change them through proposals.")
        )
    version = _new_version(
        db,
        community,
        source=Source.imported,
        summary=f"Imported the community's existing rules ({sum(len(c) for _, c in parsed)} "
        "clauses).",
        proposal=None,
        by=user,
        now=now,
    )
    categories = {c.name.lower(): c for c in communities_service.categories(db, community)}
    for title, clauses in parsed:
        section = _section(db, community, title, categories.get(title.lower()), now)
        for item in clauses:
            clause = _new_clause(db, community, section, item.title, now)
            _add_version(
                db,
                clause,
                version,
                change=Change.imported,
                text=item.text,
                by=user,
                now=now,
                language=community.language,
                note=f"Imported by {user.display_name}",
            )
    db.flush()
    return version


# --- Ratification -------------------------------------------------------------------------


def capacity_of(
    actor: User | None, membership: Membership | None, community: Community
) -> str | None:
    """In what capacity `actor` may sign a ratification, if any."""
    if community_permissions.is_moderator(actor, membership):
        return "moderator"
    if (
        community.ratification_requires_rights_holder
        and membership is not None
        and membership.role == Role.rights_holder
    ):
        return "rights_holder"
    return None


def queue(db: Session, community: Community) -> list[Proposal]:
    """Proposals that passed their poll and wait for ratification, oldest first."""
    return list(
        db.scalars(
            select(Proposal)
            .where(Proposal.community_id == community.id, Proposal.state == ProposalState.passed)
            .order_by(Proposal.closed_at, Proposal.id)
        )
    )


@dataclass(frozen=True)
class QueueItem:
    """A passed proposal as the ratification queue shows it."""

    proposal: Proposal
    poll: Poll | None
    signed: list[Ratification]
    missing: list[str]
    change: ClauseChange | None


def queue_items(db: Session, community: Community) -> list[QueueItem]:
    """The queue with each proposal's poll, signatures and change, in a fixed number of
    queries however long the queue."""
    proposals = queue(db, community)
    polls: dict[int, Poll] = {}
    for poll in db.scalars(
        select(Poll)
        .where(Poll.proposal_id.in_([p.id for p in proposals]))
        .order_by(Poll.proposal_id, Poll.number.desc())
    ):
        polls.setdefault(poll.proposal_id, poll)
    signed: dict[int, list[Ratification]] = {}
    for ratification in db.scalars(
        select(Ratification)
        .where(
            # The proposal too, though the poll says it: that is the index's first column.
            Ratification.proposal_id.in_(list(polls)),
            Ratification.poll_id.in_([poll.id for poll in polls.values()]),
            Ratification.decision == Decision.ratify,
        )
        .order_by(Ratification.id)
    ):
        signed.setdefault(ratification.poll_id, []).append(ratification)
    current = _in_force_by_number(
        db,
        community.id,
        {p.target_clause for p in proposals if p.kind != ProposalKind.new and p.target_clause},
    )
    items = []
    for proposal in proposals:
        decided = polls.get(proposal.id)
        signatures_of = signed.get(decided.id, []) if decided else []
        items.append(
            QueueItem(
                proposal=proposal,
                poll=decided,
                signed=signatures_of,
                missing=missing_signatures(community, signatures_of),
                change=_change(proposal, current.get(proposal.target_clause or ""))
                if proposal.kind != ProposalKind.new
                else None,
            )
        )
    return items


def signatures(db: Session, proposal: Proposal, poll: Poll) -> list[Ratification]:
    return list(
        db.scalars(
            select(Ratification)
            .where(
                Ratification.proposal_id == proposal.id,
                Ratification.poll_id == poll.id,
                Ratification.decision == Decision.ratify,
            )
            .order_by(Ratification.id)
        )
    )


def missing_signatures(community: Community, signed: list[Ratification]) -> list[str]:
    needed = ["moderator"] + (
        ["rights_holder"] if community.ratification_requires_rights_holder else []
    )
    have = {r.capacity for r in signed}
    return [c for c in needed if c not in have]


def _decided_poll(db: Session, proposal: Proposal) -> Poll:
    lifecycle.ensure_can_move(proposal.state, ProposalState.ratified)
    poll = polls_service.current_poll(db, proposal)
    if poll is None or poll.tally is None:
        raise Conflict(gettext("Only a proposal that passed its poll can be ratified."))
    return poll


def ratify(
    db: Session, *, actor: User | None, proposal: Proposal, note: str, now: datetime
) -> DocumentVersion | None:
    """Sign the ratification of a passed proposal; the last signature needed publishes the
    next guidelines version (None while a signature is still missing)."""
    community = proposal.community
    user = community_permissions.require_user(actor)
    capacity = capacity_of(user, communities_service.membership_of(db, community, user), community)
    if capacity is None:
        raise PermissionDenied(
            gettext("Only moderators (and rights holders, where required) ratify.")
        )
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            gettext("The note is too long."),
            fields={"note": gettext("Use at most %(max)s.", max=NOTE_MAX)},
        )
    if "\x00" in note:
        raise ValidationFailed(
            gettext("The note is not valid."), fields={"note": gettext(NUL_PROBLEM)}
        )
    # One ratification at a time per community: version numbers and clause texts follow on.
    _lock(db, community)
    db.refresh(proposal)
    poll = _decided_poll(db, proposal)
    signed = signatures(db, proposal, poll)
    if capacity in {r.capacity for r in signed}:
        raise Conflict(
            gettext("A moderator has ratified this proposal already.")
            if capacity == "moderator"
            else gettext("A rights holder has ratified this proposal already.")
        )
    db.add(
        Ratification(
            proposal_id=proposal.id,
            poll_id=poll.id,
            actor_id=user.id,
            capacity=capacity,
            decision=Decision.ratify,
            note=note,
            created_at=now,
        )
    )
    moderation_log.record(
        db,
        community=community,
        action=LogAction.proposal_ratified,
        actor=user,
        now=now,
        reason=note,
        detail=f"as {capacity.replace('_', ' ')}",
        proposal_id=proposal.id,
    )
    db.flush()
    signed = signatures(db, proposal, poll)
    if missing_signatures(community, signed):
        return None
    return _publish(db, proposal, poll, signed, user, now)


def send_back(
    db: Session, *, actor: User | None, proposal: Proposal, reason: str, now: datetime
) -> Proposal:
    """Return a passed proposal to deliberation, with a public reason."""
    community = proposal.community
    user = community_permissions.require_user(actor)
    capacity = capacity_of(user, communities_service.membership_of(db, community, user), community)
    if capacity is None:
        raise PermissionDenied(
            gettext("Only moderators (and rights holders, where required) return it.")
        )
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    text = public_reason(reason, hint=N_("Say why it goes back, for the public record."))
    _lock(db, community)
    db.refresh(proposal)
    poll = _decided_poll(db, proposal)
    lifecycle.ensure_can_move(proposal.state, ProposalState.deliberation)
    db.add(
        Ratification(
            proposal_id=proposal.id,
            poll_id=poll.id,
            actor_id=user.id,
            capacity=capacity,
            decision=Decision.send_back,
            note=text,
            created_at=now,
        )
    )
    proposal.state = ProposalState.deliberation
    proposal.voting_may_open_at = now + timedelta(hours=community.min_deliberation_hours)
    proposal.deadline_at = proposal.voting_may_open_at
    proposal.last_activity_at = now
    proposals_service.record_event(db, proposal, EventKind.returned, user, now, detail=text)
    moderation_log.record(
        db,
        community=community,
        action=LogAction.proposal_returned,
        actor=user,
        now=now,
        reason=text,
        proposal_id=proposal.id,
    )
    tell.returned(db, proposal=proposal, reason=text, actor=user, now=now)
    db.flush()
    return proposal


def _lock(db: Session, community: Community) -> None:
    """Serialize publications of one community (SQLite serializes every writer anyway)."""
    db.execute(select(Community.id).where(Community.id == community.id).with_for_update())


def _new_version(
    db: Session,
    community: Community,
    *,
    source: Source,
    summary: str,
    proposal: Proposal | None,
    by: User,
    now: datetime,
) -> DocumentVersion:
    version = DocumentVersion(
        community_id=community.id,
        number=latest_number(db, community) + 1,
        source=source,
        summary=summary[:500],
        proposal_id=proposal.id if proposal else None,
        published_by_id=by.id,
        published_at=now,
    )
    try:
        with db.begin_nested():
            db.add(version)
            db.flush()
    except IntegrityError:
        # The lock makes this rare; the unique number makes it harmless.
        raise Conflict(
            gettext("Another change was published at the same moment; try again.")
        ) from None
    tell.guidelines(
        db, community=community, number=version.number, summary=version.summary, actor=by, now=now
    )
    return version


def _section(
    db: Session, community: Community, title: str, category: Category | None, now: datetime
) -> Section:
    query = select(Section).where(Section.community_id == community.id)
    found = db.scalar(
        query.where(Section.category_id == category.id)
        if category is not None
        else query.where(Section.category_id.is_(None), Section.title == title)
    )
    if found is not None:
        return found
    number = (
        db.scalar(select(func.max(Section.number)).where(Section.community_id == community.id)) or 0
    ) + 1
    section = Section(
        community_id=community.id,
        number=number,
        title=category.name if category else title,
        category_id=category.id if category else None,
        created_at=now,
    )
    db.add(section)
    db.flush()
    return section


def _new_clause(
    db: Session, community: Community, section: Section, title: str, now: datetime
) -> Clause:
    position = (
        db.scalar(select(func.max(Clause.position)).where(Clause.section_id == section.id)) or 0
    ) + 1
    clause = Clause(
        community_id=community.id,
        section_id=section.id,
        number=f"{section.number}.{position}",
        position=position,
        title=title[:140],
        created_at=now,
    )
    db.add(clause)
    db.flush()
    return clause


def _add_version(
    db: Session,
    clause: Clause,
    document_version: DocumentVersion,
    *,
    change: Change,
    text: str,
    by: User,
    now: datetime,
    language: str,
    note: str = "",
    proposal: Proposal | None = None,
    poll: Poll | None = None,
) -> ClauseVersion:
    """Close the clause's version in force (if any) and add the next one, written in
    `language`."""
    previous = db.scalar(
        select(ClauseVersion).where(
            ClauseVersion.clause_id == clause.id, ClauseVersion.to_version.is_(None)
        )
    )
    if previous is not None:
        previous.to_version = document_version.number
        previous.effective_to = now
    version = ClauseVersion(
        clause_id=clause.id,
        community_id=clause.community_id,
        version=(previous.version + 1) if previous else 1,
        change=change,
        text=text,
        from_version=document_version.number,
        effective_from=now,
        proposal_id=proposal.id if proposal else None,
        revision_number=proposal.revision_number if proposal else None,
        poll_id=poll.id if poll else None,
        tally=poll.tally if poll else None,
        objections=[o.to_json() for o in poll_record.objections(db, poll)] if poll else [],
        note=note[:500],
        created_by_id=by.id,
        language=language,
    )
    db.add(version)
    db.flush()
    return version


def _target(db: Session, proposal: Proposal, poll: Poll) -> tuple[Clause, ClauseVersion]:
    """The clause an amend or repeal proposal changes, unchanged since its poll opened."""
    clause = get_clause(db, proposal.community, proposal.target_clause or "")
    current = newest_version(db, clause)
    if current is None or current.change == Change.repealed:
        raise Conflict(
            gettext(
                "Clause %(number)s is no longer in force; return this proposal.",
                number=clause.number,
            )
        )
    if current.effective_from > poll.opened_at:
        # Ratifying would silently undo the change published since the community voted.
        raise Conflict(
            gettext(
                "Clause %(number)s changed after this proposal's poll opened; return the proposal "
                "to deliberation so it can be based on the current text.",
                number=clause.number,
            )
        )
    return clause, current


def _publish(
    db: Session,
    proposal: Proposal,
    poll: Poll,
    signed: list[Ratification],
    by: User,
    now: datetime,
) -> DocumentVersion:
    """The next document version, with the proposal's change, provenance and credits."""
    community = proposal.community
    if proposal.kind == ProposalKind.new:
        section = _section(db, community, GENERAL_SECTION, proposal.category, now)
        clause = _new_clause(db, community, section, proposal.title, now)
        change, summary = Change.added, f"Added {clause.number} “{proposal.title}”"
    else:
        clause, _ = _target(db, proposal, poll)
        if proposal.kind == ProposalKind.amend:
            change, summary = Change.amended, f"Amended {clause.number} “{clause.title}”"
        else:
            change, summary = Change.repealed, f"Repealed {clause.number} “{clause.title}”"
    version = _new_version(
        db,
        community,
        source=Source.ratified,
        summary=f"{summary} (proposal #{proposal.id})",
        proposal=proposal,
        by=by,
        now=now,
    )
    notes = "; ".join(r.note for r in signed if r.note)
    clause_version = _add_version(
        db,
        clause,
        version,
        change=change,
        text=proposal.norm_text,
        by=by,
        now=now,
        language=proposal.language or community.language,
        note=notes,
        proposal=proposal,
        poll=poll,
    )
    _credit(db, clause_version, proposal, poll, signed)
    lifecycle.ensure_can_move(proposal.state, ProposalState.ratified)
    proposal.state = ProposalState.ratified
    proposal.ratified_at = now
    proposal.deadline_at = None
    proposal.last_activity_at = now
    proposals_service.record_event(
        db, proposal, EventKind.ratified, by, now, detail=f"{summary}, version {version.number}"
    )
    tell.ratified(db, proposal=proposal, version_number=version.number, actor=by, now=now)
    db.flush()
    return version


def _credit(
    db: Session,
    version: ClauseVersion,
    proposal: Proposal,
    poll: Poll,
    signed: list[Ratification],
) -> None:
    """Everyone who shaped the clause: authors, amenders, objectors who changed it, ratifiers."""
    credited: set[tuple[int, Credit]] = set()

    def give(user: User | None, credit: Credit) -> None:
        if user is not None and (user.id, credit) not in credited:
            credited.add((user.id, credit))
            db.add(
                ClauseCredit(
                    clause_version_id=version.id,
                    user_id=user.id,
                    name=user.display_name[:80],
                    credit=credit,
                )
            )

    give(proposal.author, Credit.proposer)
    for author in db.scalars(
        select(ProposalAuthor).where(
            ProposalAuthor.proposal_id == proposal.id, ProposalAuthor.role == AuthorRole.coauthor
        )
    ):
        give(author.user, Credit.coauthor)
    for revision in db.scalars(
        select(Revision).where(Revision.proposal_id == proposal.id, Revision.number > 1)
    ):
        if revision.author_id != proposal.author_id:
            give(revision.author, Credit.amender)
    for objector in poll_record.objectors_who_changed_the_text(db, poll):
        give(objector, Credit.objector)
    for ratification in signed:
        give(ratification.actor, Credit.ratifier)
    db.flush()
