"""The demo community that `make run` seeds on first start, with a user of every role."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community, Role
from app.discussion import anchors
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.polls import service as polls_service
from app.polls.models import Poll
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalState
from app.works import service as works_service
from app.works.models import Work

#: Demo logins, also listed in the README. For a local demo only: never seed a public site.
DEMO_PASSWORD = "miku-demo-2026"

DEMO_USERS = [
    # username, display name, role in the demo community (None: site admin only)
    ("admin", "Site Admin", None),
    ("mod_rin", "Rin (moderator)", Role.moderator),
    ("creator_len", "Len the Producer", Role.creator),
    ("rights_crypton", "Rights Holder Office", Role.rights_holder),
    ("fan_luka", "Luka Fan", Role.fan),
    ("fan_kaito", "Kaito Fan", Role.fan),
]

MIKU_DESCRIPTION = """\
A community of fans, producers, illustrators and modellers who make and share derivative works of
a character whose rights holder allows fan works under published character guidelines.

Here we settle, in the open, **which derivative works we accept**: how the character is depicted
(she is presented as 16), sexual content, commercial use, AI models fine-tuned on fan art, and the
credit owed to the works we build on. Anyone may propose a norm; the community deliberates around
concrete example works, consents in a weighted poll, and moderators ratify the outcome into our
published guidelines.
"""

REMIX_DESCRIPTION = """\
Producers who remix and cover virtual-singer songs: stems, covers, sampling etiquette and how to
credit the original producer and vocal library.
"""


MIKU_CATEGORIES = [
    ("Depiction and age", "How the character may be shown, given she is presented as 16."),
    ("Sexual content", "Sexualised and explicit depictions."),
    ("Commercial use", "Selling works, commissions, merchandise and events."),
    ("AI-generated works and derivative models", "Generated images and songs, fine-tunes, LoRAs."),
    ("Attribution and credit", "The credit owed to upstream works and their creators."),
    ("Harassment", "How members and creators treat each other."),
]

# (author, category name, state, tags, title, summary, norm text, rationale, later edits)
# Each later edit is (editor, message, replacement norm text).
DEMO_PROPOSALS: list[
    tuple[str, str, ProposalState, list[str], str, str, str, str, list[tuple[str, str, str]]]
] = [
    (
        "fan_luka",
        "Sexual content",
        ProposalState.deliberation,
        ["fan-art", "age"],
        "No sexualised depictions of the character",
        "The character is presented as 16. Works shared here must not sexualise her, whatever "
        "art style or claimed age is used.",
        "Works that sexualise the character are not accepted in this community, whatever the "
        "medium, and regardless of any age claimed for her in the work.",
        "The character's official profile gives her age as 16. Several platforms already "
        "remove such works, and creators have asked for a clear line they can point to.\n\n"
        "- Protects minors and the community's standing with the rights holder\n"
        "- Gives moderators a rule they can apply consistently",
        [
            (
                "fan_kaito",
                "Name suggestive costumes explicitly, as discussed in the thread",
                "Works that sexualise the character are not accepted in this community, whatever "
                "the medium, and regardless of any age claimed for her in the work. This includes "
                "suggestive poses and costumes that focus on her body.",
            ),
        ],
    ),
    (
        "creator_len",
        "Commercial use",
        ProposalState.voting,
        ["commercial", "events"],
        "Small-scale sales at fan events are acceptable",
        "Creators may sell fan works in small numbers at doujin events without asking, as long "
        "as they follow the rights holder's guidelines.",
        "Selling derivative works in small quantities (up to 500 copies) at fan events is "
        "acceptable when the work follows the rights holder's character guidelines and credits "
        "the character's rights holder.",
        "Doujin culture depends on small print runs. A clear threshold tells creators where fan "
        "activity ends and a licence is needed.",
        [],
    ),
    (
        "creator_len",
        "AI-generated works and derivative models",
        ProposalState.draft,
        ["ai", "lora", "training-data"],
        "Disclose AI models fine-tuned on fan art",
        "Any AI model fine-tuned on fan art of the character must say so and list its training "
        "sources.",
        "A derivative AI model (fine-tune or LoRA) trained on fan works of the character must be "
        "labelled as such and must list the works or collections it was trained on.",
        "Fan artists want to know when their work trains a model. Disclosure comes first; "
        "consent is a separate proposal.",
        [],
    ),
    (
        "fan_kaito",
        "Attribution and credit",
        ProposalState.withdrawn,
        ["credit"],
        "Credit every upstream work in the title",
        "Put the full chain of credits in the title of every derivative work.",
        "Every derivative work must name all upstream works and their creators in its title.",
        "Titles are what people see first.",
        [],
    ),
    (
        "fan_luka",
        "Attribution and credit",
        ProposalState.passed,
        ["credit", "licence"],
        "Credit the work you build on, in the work's description",
        "A derivative work names the works it builds on and their creators where people read "
        "about it.",
        "A derivative work shared here names, in its description, each work it directly "
        "builds on and that work's creator.",
        "Upstream acknowledgment keeps remixing healthy: creators who are credited keep "
        "sharing, and readers can find the original.",
        [],
    ),
]

#: The rules the Miku community had before it used the forum, imported as version 1 of its
#: guidelines. Written for the demo.
DEMO_RULES = """\
## Depiction and age
- **She is presented as 16.** Works may show the character at that age or older, in everyday,
  musical and fantasy settings; no work presents her as a child in a romantic or sexual context.
- **Keep violence non-graphic.** Action and peril are fine; gore and lingering injury are not
  shared here.

## Commercial use
- **Share freely, sell only within the rights holder's terms.** Fan works may be shared for free
  with credit. Selling them is acceptable only as far as the rights holder's published terms allow.

## AI-generated works and derivative models
- **Say when a model made it.** A work made wholly or partly with a generative model says so in
  its description, and names the model.

## Harassment
- **Criticise works, not people.** Discussion stays about the work; no attacks on its creator.
"""
#: Applicability tags of the imported clauses, by number.
DEMO_CLAUSE_TAGS = {"2.1": ["commercial"], "3.1": ["ai-generated", "ai_model"]}

#: Ballots of the demo polls: (proposal title, round, voter, position, reason).
DEMO_BALLOTS: list[tuple[str, int, str, str, str]] = [
    ("Small-scale sales at fan events are acceptable", 1, "creator_len", "consent", ""),
    (
        "Small-scale sales at fan events are acceptable",
        1,
        "fan_luka",
        "concern",
        "500 copies is a lot for a first-time circle; I would like a lower number for prints.",
    ),
    ("Credit the work you build on, in the work's description", 1, "creator_len", "consent", ""),
    (
        "Credit the work you build on, in the work's description",
        1,
        "fan_kaito",
        "object",
        "It should name the licence too: a credit without the licence leaves people guessing "
        "what they may do with the remix.",
    ),
    ("Credit the work you build on, in the work's description", 2, "fan_kaito", "consent", ""),
    ("Credit the work you build on, in the work's description", 2, "creator_len", "consent", ""),
    (
        "Credit the work you build on, in the work's description",
        2,
        "rights_crypton",
        "concern",
        "Agreed; we will link our own licence page so fans can point to it.",
    ),
    ("Credit the work you build on, in the work's description", 2, "mod_rin", "stand_aside", ""),
]
#: Japanese translations of imported clauses, by number: (title, text). Clause 3.1 has an
#: amendment waiting for ratification; ratifying it leaves its translation out of date.
DEMO_TRANSLATIONS = {
    "1.1": (
        "16歳として描かれます",
        "作品では、キャラクターをその年齢またはそれ以上として、日常・音楽・ファンタジーの場面で"
        "描くことができます。恋愛や性的な文脈で子どもとして描く作品は認められません。",
    ),
    "1.2": (
        "暴力表現は生々しくしない",
        "アクションや危機の描写は問題ありませんが、流血や長く続く負傷の描写はここでは共有しません。",
    ),
    "2.1": (
        "自由に共有し、販売は権利者の条件の範囲内で",
        "ファン作品はクレジットを付けて無料で共有できます。販売は、権利者が公開している条件が"
        "認める範囲でのみ認められます。",
    ),
    "3.1": (
        "モデルが作ったときはそう書く",
        "生成モデルを使って全体または一部を作った作品は、説明欄にその旨を書き、モデル名を記します。",
    ),
}
AMENDED_CREDIT = (
    "A derivative work shared here names, in its description, each work it directly builds on, "
    "that work's creator and the licence it was shared under."
)


def _seed_proposals(
    db: Session, community: Community, users: dict[str, User], now: datetime
) -> list[Proposal]:
    slugs = {c.name: c.slug for c in communities_service.categories(db, community)}
    start = now - timedelta(days=12)
    made: list[Proposal] = []
    for n, (author, category, state, tags, title, summary, norm, rationale, edits) in enumerate(
        DEMO_PROPOSALS
    ):
        at = start + timedelta(hours=5 * n)
        proposal = proposals_service.create_proposal(
            db,
            actor=users[author],
            community=community,
            values=proposals_service.ProposalDraft(
                title=title,
                summary=summary,
                rationale=rationale,
                norm_text=norm,
                category=slugs[category],
                tags=tags,
                language="en",
            ),
            now=at,
        )
        made.append(proposal)
        if state == ProposalState.draft:
            continue
        for editor, _message, _text in edits:
            proposals_service.add_coauthor(
                db, actor=users[author], proposal=proposal, username=editor, now=at
            )
        proposals_service.publish(db, actor=users[author], proposal=proposal, now=at)
        for i, (editor, message, new_norm) in enumerate(edits, start=1):
            proposals_service.edit_proposal(
                db,
                actor=users[editor],
                proposal=proposal,
                base_revision=proposal.revision_number,
                values=proposals_service.ProposalDraft(
                    title=proposal.title,
                    summary=proposal.summary,
                    rationale=proposal.rationale,
                    norm_text=new_norm,
                    category=slugs[category],
                    tags=tags,
                ),
                message=message,
                now=at + timedelta(hours=i),
            )
        if state == ProposalState.withdrawn:
            proposals_service.withdraw(
                db,
                actor=users[author],
                proposal=proposal,
                reason="Titles get too long; a credits section works better.",
                now=at + timedelta(hours=2),
            )
    return made


# (key, registered by, title, creator, url, medium, license, notes, duration, excerpt, parents)
DEMO_WORKS: list[tuple[str, str, str, str, str, str, str, str, str, str, list[str]]] = [
    (
        "design",
        "rights_crypton",
        "Character design sheet",
        "Rights Holder Office",
        "https://example.org/works/design-sheet",
        "image",
        "All rights reserved",
        "",
        "",
        "",
        [],
    ),
    (
        "illustration",
        "creator_len",
        "Rooftop at dusk (fan illustration)",
        "Len the Producer",
        "https://example.org/works/rooftop",
        "image",
        "CC BY-NC 3.0",
        "",
        "",
        "",
        ["design"],
    ),
    (
        "remix",
        "fan_luka",
        "Rooftop remix (music video)",
        "Luka Fan",
        "https://example.org/works/rooftop-remix",
        "video",
        "CC BY-NC 3.0",
        "flashing lights",
        "215",
        "",
        ["illustration"],
    ),
    (
        "base-model",
        "creator_len",
        "Open image model v2",
        "An AI lab",
        "https://example.org/works/base-model",
        "ai_model",
        "CreativeML Open RAIL-M",
        "",
        "",
        "",
        [],
    ),
    (
        "lora",
        "fan_kaito",
        "Character LoRA trained on fan art",
        "Kaito Fan",
        "https://example.org/works/character-lora",
        "ai_model",
        "CreativeML Open RAIL-M",
        "suggestive outputs possible",
        "",
        "",
        ["base-model", "illustration"],
    ),
    (
        "story",
        "fan_luka",
        "After the concert (short story)",
        "Luka Fan",
        "https://example.org/works/after-the-concert",
        "text",
        "CC BY 4.0",
        "",
        "",
        "She stepped off the stage, still humming the last chorus, and the city lights "
        "answered in teal.",
        ["design"],
    ),
]


def _seed_works(
    db: Session, community: Community, users: dict[str, User], now: datetime
) -> dict[str, Work]:
    works: dict[str, Work] = {}
    for (
        key,
        by,
        title,
        creator,
        url,
        medium,
        license_,
        notes,
        duration,
        excerpt,
        parents,
    ) in DEMO_WORKS:
        work = works_service.create_work(
            db,
            actor=users[by],
            community=community,
            values=works_service.WorkDraft(
                title=title,
                creator_name=creator,
                url=url,
                medium=medium,
                license=license_,
                content_notes=notes,
                duration_seconds=duration,
                excerpt=excerpt,
                parents=[str(works[p].id) for p in parents],
                language="en",
            ),
            now=now,
        )
        works[key] = work
    return works


# Example works on the first proposal: (work, stance, note, added by).
DEMO_EXHIBITS = [
    ("illustration", "acceptable", "The official outfit, an everyday scene.", "fan_luka"),
    ("story", "acceptable", "Ordinary life after a concert: nothing to object to.", "fan_luka"),
    ("remix", "borderline", "The official outfit, but the camera lingers at 0:42.", "creator_len"),
    ("lora", "unacceptable", "Its card shows suggestive outputs of the character.", "fan_kaito"),
]

# A discussion: (key, author, reply to key or None, stance, body, anchor or None).
DEMO_COMMENTS: list[
    tuple[str, str, str | None, str | None, str, tuple[str, anchors.AnchorInput] | None]
] = [
    (
        "agree",
        "fan_kaito",
        None,
        "supports",
        "Agreed. The line should be about **how** she is shown, not about the medium: "
        "a story can cross it as easily as a drawing.",
        None,
    ),
    (
        "framing",
        "creator_len",
        None,
        "question",
        "Is the camera work here over the line? The outfit is the official one, but the framing "
        "lingers. I'd like the norm text to say whether framing alone can make a work "
        "unacceptable.",
        ("remix", anchors.AnchorInput(kind="time", start=42.0, end=50.0)),
    ),
    (
        "framing-reply",
        "fan_luka",
        "framing",
        None,
        "I'd call it borderline, which is why I exhibited it that way. Framing alone shouldn't "
        "ban a work; framing that *sexualises* her should.",
        None,
    ),
    (
        "framing-reply-2",
        "creator_len",
        "framing-reply",
        None,
        "Fair. Then “presented in a sexualised way” in the norm text covers it. Could the "
        "rationale give this video as the example?",
        None,
    ),
    (
        "everyday",
        "rights_crypton",
        None,
        "supports",
        "This is the kind of everyday depiction the character guidelines are meant to "
        "encourage, and the proposal leaves it untouched.",
        ("story", anchors.AnchorInput(kind="quote", exact="still humming the last chorus")),
    ),
    (
        "pose",
        "mod_rin",
        None,
        "neutral",
        "For the record: the pose in this part of the illustration was raised in another "
        "thread. It is fine under this proposal as written.",
        ("illustration", anchors.AnchorInput(kind="region", x=30, y=20, w=35, h=50)),
    ),
    (
        "lora",
        "fan_luka",
        None,
        "opposes",
        "I support the aim, but the text should also cover models that can *generate* such "
        "images, like the LoRA exhibited here. As written it only covers finished works.",
        None,
    ),
    (
        "framing-ja",
        "rights_crypton",
        "framing",
        None,
        "権利者の立場から補足します。カメラワークだけを理由に作品を不可とする必要はないと考えて"
        "いますが、キャラクターを性的に強調する意図が明らかな構図は、公式のガイドラインでも認めて"
        "いません。0:42 あたりは判断が分かれるところなので、「グレーゾーン」としての展示は"
        "妥当だと思います。",
        None,
    ),
    (
        "framing-ja-reply",
        "creator_len",
        "framing-ja",
        None,
        "ありがとうございます。では、提案本文の「性的な表現」には構図も含まれるという理解で進めます。"
        "根拠の欄で、この動画を例として挙げてもよいでしょうか。",
        None,
    ),
]
#: The language of each demo comment, where it is not English.
DEMO_COMMENT_LANGUAGES = {"framing-ja": "ja", "framing-ja-reply": "ja"}


def _seed_discussion(
    db: Session, proposal: Proposal, users: dict[str, User], works: dict[str, Work], now: datetime
) -> None:
    at = now - timedelta(hours=20)
    for key, stance, note, by in DEMO_EXHIBITS:
        exhibits_service.add_exhibit(
            db,
            actor=users[by],
            proposal=proposal,
            work_id=works[key].id,
            stance=stance,
            note=note,
            now=at,
        )
    posted: dict[str, int] = {}
    for n, (key, author, parent, alignment, body, anchor) in enumerate(DEMO_COMMENTS, start=1):
        pointer = None
        if anchor is not None:
            work_key, shape = anchor
            pointer = dataclasses.replace(shape, work=works[work_key].id)
        comment = discussion_service.post_comment(
            db,
            actor=users[author],
            proposal=proposal,
            draft=discussion_service.CommentDraft(
                body=body,
                parent=posted[parent] if parent else None,
                alignment=alignment,
                anchor=pointer,
                language=DEMO_COMMENT_LANGUAGES.get(key, "en"),
            ),
            now=at + timedelta(minutes=37 * n),
        )
        posted[key] = comment.id


def _seed_polls(
    db: Session, proposals: list[Proposal], users: dict[str, User], now: datetime
) -> None:
    """An open poll on the sales proposal; a closed one on the credit proposal, which passed in
    a second round after its author amended the text to answer an objection."""
    by_title = {p.title: p for p in proposals}
    selling = by_title["Small-scale sales at fan events are acceptable"]
    credit = by_title["Credit the work you build on, in the work's description"]
    opened = {
        selling.id: now - timedelta(days=2),
        credit.id: now - timedelta(days=8, hours=4),
    }
    polls: dict[int, Poll] = {}
    for proposal in (selling, credit):
        polls[proposal.id] = polls_service.open_poll(
            db,
            actor=users["creator_len" if proposal is selling else "fan_luka"],
            proposal=proposal,
            now=opened[proposal.id],
        )
    amended_at = opened[credit.id] + timedelta(days=1)
    for n, (title, round_number, voter, position, reason) in enumerate(DEMO_BALLOTS):
        proposal = by_title[title]
        if proposal is credit and round_number == 2 and polls[credit.id].current_round == 1:
            polls_service.amend(
                db,
                actor=users["fan_luka"],
                proposal=credit,
                base_revision=credit.revision_number,
                values=proposals_service.ProposalDraft(
                    title=credit.title,
                    summary=credit.summary,
                    rationale=credit.rationale,
                    norm_text=AMENDED_CREDIT,
                    category=credit.category.slug if credit.category else "",
                    tags=credit.tag_names,
                    language="en",
                ),
                message="Name the licence too, as Kaito's objection asked",
                now=amended_at,
            )
        start = amended_at if round_number == 2 else opened[proposal.id]
        polls_service.cast_ballot(
            db,
            actor=users[voter],
            poll=polls[proposal.id],
            position=position,
            reason=reason,
            now=start + timedelta(hours=2 + 3 * n),
        )
    # The credit poll's second round ended hours ago; the sweep records its outcome, and the
    # moderator ratifies it into version 2 of the guidelines.
    polls_service.sweep(db, now)
    guidelines_service.ratify(
        db,
        actor=users["mod_rin"],
        proposal=credit,
        note="Thanks to Kaito for the objection that added the licence.",
        now=now - timedelta(hours=2),
    )


def _seed_amendment(
    db: Session, community: Community, users: dict[str, User], now: datetime
) -> None:
    """An amendment of clause 3.1 that passed its poll and waits in the ratification queue."""
    proposal = proposals_service.create_proposal(
        db,
        actor=users["creator_len"],
        community=community,
        values=proposals_service.ProposalDraft(
            title="Name the training data too",
            summary="Generated works also say what the model was fine-tuned on, when it was.",
            rationale="Fan artists want to know when their work trained the model behind a "
            "generated picture.",
            norm_text="A work made wholly or partly with a generative model says so in its "
            "description, names the model and, for a fine-tuned model, the works or collections "
            "it was trained on.",
            category=next(
                c.slug
                for c in communities_service.categories(db, community)
                if c.name.startswith("AI-generated")
            ),
            tags=["ai", "training-data"],
            kind="amend",
            target_clause="3.1",
            language="en",
        ),
        now=now - timedelta(days=10),
        clause_numbers=guidelines_service.clause_numbers(db, community),
    )
    proposals_service.publish(
        db, actor=users["creator_len"], proposal=proposal, now=now - timedelta(days=10)
    )
    poll = polls_service.open_poll(
        db, actor=users["creator_len"], proposal=proposal, now=now - timedelta(days=6)
    )
    for n, (voter, position, reason) in enumerate(
        [
            ("creator_len", "consent", ""),
            ("fan_luka", "consent", ""),
            ("rights_crypton", "consent", ""),
            ("fan_kaito", "concern", "Hard to follow for merged models; a link should be enough."),
        ]
    ):
        polls_service.cast_ballot(
            db,
            actor=users[voter],
            poll=poll,
            position=position,
            reason=reason,
            now=now - timedelta(days=5, hours=-n),
        )
    polls_service.close_early(db, actor=users["mod_rin"], poll=poll, now=now - timedelta(days=1))


def _unwrap(text: str) -> str:
    """Join the source's wrapped lines, keeping paragraphs, so the edit box shows prose."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text).strip()


def has_users(db: Session) -> bool:
    return db.scalar(select(User.id).limit(1)) is not None


def seed(db: Session, *, now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo; returns (username, password, role) for each login."""
    users: dict[str, User] = {}
    for username, display_name, _role in DEMO_USERS:
        users[username] = accounts_service.create_user(
            db,
            username=username,
            email=f"{username}@example.org",
            password=DEMO_PASSWORD,
            display_name=display_name,
            is_admin=username == "admin",
            # Older than the communities they founded and joined, and past a new account's
            # first-day limits (no links in comments) the moment the demo starts.
            now=now - timedelta(days=90),
        )
    admin = users["admin"]
    # Founded two months ago, so that members were on the roll of the demo polls.
    founded = now - timedelta(days=60)
    miku = communities_service.create_community(
        db,
        actor=admin,
        name="Hatsune Miku Fans",
        slug="miku",
        description=_unwrap(MIKU_DESCRIPTION),
        now=founded,
    )
    remix = communities_service.create_community(
        db,
        actor=admin,
        name="Vocal Synth Remix Circle",
        slug="remix-circle",
        description=_unwrap(REMIX_DESCRIPTION),
        now=founded,
    )
    for username, _display, role in DEMO_USERS:
        if role is None:
            continue
        _give_role(db, miku, admin, users[username], role, founded)
    _give_role(db, remix, admin, users["creator_len"], Role.moderator, founded)
    for name, description in MIKU_CATEGORIES:
        communities_service.add_category(
            db, actor=admin, community=miku, name=name, description=description
        )
    # The founding admin hands the Miku community over to its moderator.
    communities_service.leave(db, actor=admin, community=miku, now=founded)
    polls_service.set_policy(
        db,
        actor=users["mod_rin"],
        community=miku,
        settings={"weight_policy": "role", "quorum": "30", "threshold": "60"},
        now=founded,
    )
    guidelines_service.import_rules(
        db,
        actor=users["mod_rin"],
        community=miku,
        markdown=DEMO_RULES,
        now=now - timedelta(days=40),
    )
    for number, tags in DEMO_CLAUSE_TAGS.items():
        guidelines_service.set_tags(
            db,
            actor=users["mod_rin"],
            community=miku,
            clause=guidelines_service.get_clause(db, miku, number),
            tags=tags,
        )
    for number, (title, text) in DEMO_TRANSLATIONS.items():
        guidelines_service.save_translation(
            db,
            actor=users["mod_rin"],
            community=miku,
            clause=guidelines_service.get_clause(db, miku, number),
            language="ja",
            title=title,
            text=text,
            now=now - timedelta(days=39),
        )
    proposals = _seed_proposals(db, miku, users, now)
    _seed_polls(db, proposals, users, now)
    _seed_amendment(db, miku, users, now)
    works = _seed_works(db, miku, users, now)
    _seed_discussion(db, proposals[0], users, works, now)
    logins = [("admin", DEMO_PASSWORD, "site admin")]
    logins += [(u, DEMO_PASSWORD, r.value) for u, _d, r in DEMO_USERS if r is not None]
    return logins


def _give_role(
    db: Session, community: Community, admin: User, user: User, role: Role, now: datetime
) -> None:
    communities_service.join(db, actor=user, community=community, now=now)
    if role != Role.fan:
        communities_service.change_role(
            db,
            actor=admin,
            community=community,
            username=user.username,
            role=role.value,
            reason="Demo set-up",
            now=now,
        )
