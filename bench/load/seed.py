"""Seed the load benchmark's database: one large community, one small one beside it.

The helpers of the other benches are reused as they are: `bench.guidelines` writes both
guideline histories (and creates the two communities), `bench.thread` generates both threads,
`bench.polls` bulk-loads users, memberships and ballots. What only this bench needs (2,000
proposals, the threads' rows under chosen ids, access tokens, the two polls) is written here,
with Core `insert()` where the services would take too long and the services elsewhere.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.accounts.models import AccessToken, TokenScope, User
from app.communities.models import Category, Community, Membership
from app.db import create_db_engine, utcnow
from app.discussion import thread
from app.discussion.models import Comment
from app.polls import service as polls_service
from app.polls.models import Ballot, ObjectionRuling, Poll
from app.proposals import service as proposals_service
from app.proposals.models import (
    AuthorRole,
    Proposal,
    ProposalAuthor,
    ProposalKind,
    ProposalState,
    ProposalTag,
    Revision,
)
from bench import guidelines, polls
from bench import thread as bench_thread
from bench.proposal_list import WORDS

#: The large community (its guidelines: 200 clauses after 2,000 versions) and the small one
#: (the same 200 clauses after 10 versions, so only history differs).
BIG_SLUG, SMALL_SLUG = "bench", "small"
#: Members of the large community. The closed poll needs 100,000 distinct voters, so the
#: community holds that many; the first 10,000 voters are the active members (tokens).
MEMBERS = 100_002
ACTIVE = 10_000
PROPOSALS = 2_000
BIG_THREAD, SMALL_THREAD = bench_thread.BIG, bench_thread.SMALL
CLOSED_BALLOTS = 100_000
#: Comments of the small thread get ids after the big thread's.
SMALL_THREAD_FIRST_ID = BIG_THREAD + 1


@dataclass
class Seeded:
    """What the scenarios need to address: ids, paths and the tokens of active members."""

    big_proposal: int = 0
    small_proposal: int = 0
    closed_poll: int = 0
    open_poll: int = 0
    #: The thread page: a cursor deep into the big thread (after top-level comment 1,000).
    deep_cursor: str = ""
    tokens: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())


@contextmanager
def step(seeded: Seeded, name: str) -> Iterator[None]:
    """Time a seeding step and print it as it ends."""
    started = time.perf_counter()
    yield
    seeded.steps[name] = time.perf_counter() - started
    print(f"  {name:<62}{seeded.steps[name]:>7.1f} s", flush=True)


def plain_token(n: int) -> str:
    """A member's API token: made up here, stored hashed as the service stores them."""
    return f"nf_bench{n:07d}_" + hashlib.sha256(f"bench-{n}".encode()).hexdigest()[:32]


def seed(url: str) -> Seeded:
    seeded = Seeded()
    engine = create_db_engine(url)
    try:
        _seed(engine, seeded)
    finally:
        engine.dispose()
    return seeded


def _seed(engine: Engine, seeded: Seeded) -> None:
    now = utcnow()
    long_ago = now - timedelta(days=400)
    with step(seeded, f"users: {MEMBERS:,} (bulk)"), engine.begin() as connection:
        polls.bulk(connection, User, (polls._user(n, long_ago) for n in range(1, MEMBERS + 1)))
        polls._restart_sequences(connection, [User])

    end = now.replace(microsecond=0) - timedelta(days=1)
    big_shape = replace(guidelines.LONG, slug=BIG_SLUG)
    small_shape = replace(guidelines.SHORT, slug=SMALL_SLUG)
    with step(seeded, "guidelines: 200 clauses after 2,000 versions (bulk + service)"):
        guidelines.seed_community(engine, big_shape, end, seed=1)
    with step(seeded, "guidelines of the small community: after 10 versions"):
        guidelines.seed_community(engine, small_shape, end, seed=2)

    with Session(engine) as db:
        big = db.scalar(select(Community).where(Community.slug == BIG_SLUG))
        small = db.scalar(select(Community).where(Community.slug == SMALL_SLUG))
        assert big is not None
        assert small is not None
        big_id, small_id = big.id, small.id
        filed = list(db.scalars(select(Category).where(Category.community_id == big_id)))
        categories = [c.id for c in filed]
        category_slug = filed[0].slug
        small_categories = list(
            db.scalars(select(Category.id).where(Category.community_id == small_id))
        )

    memberships = f"memberships: {MEMBERS - guidelines.MEMBERS:,} more (bulk)"
    with step(seeded, memberships), engine.begin() as connection:
        polls.bulk(
            connection,
            Membership,
            (
                {
                    "community_id": big_id,
                    "user_id": n,
                    "role": polls.role_of(n),
                    "joined_at": long_ago,
                }
                for n in range(guidelines.MEMBERS + 1, MEMBERS + 1)
            ),
        )
        polls._restart_sequences(connection, [Membership])

    proposals = f"proposals: {PROPOSALS:,} in deliberation (bulk)"
    with step(seeded, proposals), engine.begin() as connection:
        ids = _proposals(connection, big_id, categories, now)
        seeded.big_proposal = ids[-1]  # the newest: first in the list
        seeded.small_proposal = _proposals(connection, small_id, small_categories, now, count=1)[0]

    with step(seeded, f"threads: {BIG_THREAD:,} and {SMALL_THREAD} comments (bulk)"):
        with engine.begin() as connection:
            big_thread = _thread(connection, seeded.big_proposal, BIG_THREAD, first_id=1, now=now)
            _thread(
                connection,
                seeded.small_proposal,
                SMALL_THREAD,
                first_id=SMALL_THREAD_FIRST_ID,
                now=now,
            )
            polls._restart_sequences(connection, [Comment])
        seeded.deep_cursor = thread.encode_cursor(big_thread.top[999].id)

    with step(seeded, f"access tokens: {ACTIVE:,} active members (bulk)"):
        voters = range(polls.FIRST_VOTER, polls.FIRST_VOTER + ACTIVE)
        seeded.tokens = [plain_token(n) for n in voters]
        with engine.begin() as connection:
            polls.bulk(
                connection,
                AccessToken,
                (
                    {
                        "user_id": n,
                        "name": "bench",
                        "scope": TokenScope.write,
                        "token_hash": hashlib.sha256(plain.encode()).hexdigest(),
                        "prefix": plain[:10],
                        "created_at": long_ago,
                    }
                    for n, plain in zip(voters, seeded.tokens, strict=True)
                ),
            )
            polls._restart_sequences(connection, [AccessToken])

    _polls(engine, seeded, big_id, category_slug, now)

    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with step(seeded, "analyze"), autocommit as connection:
        vacuum = "VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"
        connection.execute(text(vacuum))


def _proposals(
    connection: Connection, community_id: int, categories: list[int], now: datetime, count: int = 0
) -> list[int]:
    """Published proposals, one revision, author and two tags each, as `bench.proposal_list`
    writes them; returns their ids, oldest first."""
    count = count or PROPOSALS
    rng = random.Random(community_id)
    first = (connection.scalar(select(Proposal.id).order_by(Proposal.id.desc()).limit(1)) or 0) + 1
    proposals, revisions, authors, tags = [], [], [], []
    for n in range(count):
        pid = first + n
        at = now - timedelta(minutes=10 * (count - n))
        words = rng.sample(WORDS, 12)
        body = " ".join(words)
        author = polls.FIRST_VOTER + n % ACTIVE
        title = f"Proposal {pid}: {' '.join(words[:4])}"
        proposals.append(
            {
                "id": pid,
                "community_id": community_id,
                "author_id": author,
                "category_id": categories[n % len(categories)] if categories else None,
                "kind": ProposalKind.new,
                "state": ProposalState.deliberation,
                "title": title,
                "summary": body,
                "rationale": body,
                "norm_text": body,
                "revision_number": 1,
                "created_at": at,
                "listed_at": at,
                "last_activity_at": at,
                "published_at": at,
                "deadline_at": at + timedelta(days=3),
            }
        )
        revisions.append(
            {
                "proposal_id": pid,
                "number": 1,
                "title": title,
                "summary": body,
                "rationale": body,
                "norm_text": body,
                "message": "",
                "author_id": author,
                "created_at": at,
            }
        )
        authors.append(
            {"proposal_id": pid, "user_id": author, "role": AuthorRole.author, "added_at": at}
        )
        tags += [{"proposal_id": pid, "tag": t} for t in sorted({"fan-art", words[0]})]
    for model, rows in (
        (Proposal, proposals),
        (Revision, revisions),
        (ProposalAuthor, authors),
        (ProposalTag, tags),
    ):
        for start in range(0, len(rows), 2_000):
            connection.execute(insert(model), rows[start : start + 2_000])
    polls._restart_sequences(connection, [Proposal, Revision, ProposalAuthor])
    return [first + n for n in range(count)]


def _thread(
    connection: Connection, proposal_id: int, size: int, *, first_id: int, now: datetime
) -> bench_thread.Thread:
    """`bench.thread`'s generated thread, under ids from `first_id` on, with its counts."""
    generated = bench_thread.build(size)
    bench_thread.insert_thread(
        connection,
        generated,
        proposal_id,
        start=now - timedelta(days=3),
        author_of=lambda n: polls.FIRST_VOTER + n * 7 % ACTIVE,
        first_id=first_id,
    )
    offset = first_id - 1
    # The encoded cursor must name ids as stored.
    for row in generated.rows:
        row.id += offset
    return generated


def _polls(engine: Engine, seeded: Seeded, community_id: int, category: str, now: datetime) -> None:
    """Two proposals polled through the service: one closed with 100,000 bulk-loaded ballots
    (tally frozen by `close_early`), one open for the "cast a ballot" scenario."""
    with Session(engine, expire_on_commit=False) as db:
        community = db.get(Community, community_id)
        moderator = db.get(User, polls.MODERATOR)
        author = db.get(User, polls.AUTHOR)
        assert community is not None

        def open_poll(title: str) -> Poll:
            published = now - timedelta(days=10)
            draft = proposals_service.ProposalDraft(
                title=title,
                summary="A bench proposal.",
                norm_text=f"{title}: the norm.",
                category=category,
            )
            proposal = proposals_service.create_proposal(
                db, actor=author, community=community, values=draft, now=published
            )
            proposals_service.publish(db, actor=author, proposal=proposal, now=published)
            poll = polls_service.open_poll(
                db,
                actor=moderator,
                proposal=proposal,
                now=now - timedelta(hours=2),
                overrides={"weight_policy": "role", "quorum": 5, "duration_days": 14},
            )
            db.commit()
            return poll

        with step(seeded, f"polls: two opened, rolls of {MEMBERS:,} frozen (service)"):
            closed = open_poll("A poll of 100,000 ballots")
            seeded.closed_poll = closed.id
            seeded.open_poll = open_poll("An open poll").id

    with step(seeded, f"ballots: {CLOSED_BALLOTS:,} (bulk)"), engine.begin() as connection:
        voters = range(polls.FIRST_VOTER, polls.FIRST_VOTER + CLOSED_BALLOTS)
        cast_at = now - timedelta(hours=1)
        polls.bulk(connection, Ballot, polls._ballots(seeded.closed_poll, voters, cast_at))
        polls._rule_objections(connection, seeded.closed_poll, cast_at)
        polls._restart_sequences(connection, [Ballot, ObjectionRuling])

    with step(seeded, "close the 100,000-ballot poll (service: tally frozen)"):
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        with Session(engine) as db:
            moderator = db.get(User, polls.MODERATOR)
            poll = db.get(Poll, seeded.closed_poll)
            assert poll is not None
            polls_service.close_early(db, actor=moderator, poll=poll, now=now)
            db.commit()
            assert poll.tally is not None
            assert poll.tally["participants"] == CLOSED_BALLOTS
