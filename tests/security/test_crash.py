"""The crash harness: a real server on the database under test, killed with SIGKILL under
write load; every acknowledged write must be there once, and whole.

`make test` runs it short (one kill) with its control: the same load without idempotency keys,
which shows that the checks do catch the duplicates retries then make. `make check-security`
runs the full proof, 20 kills (also `python -m tests.security.crash`, which prints the numbers).
"""

from __future__ import annotations

import pytest

from tests.security import crash


@pytest.mark.check_security
def test_twenty_kills_under_load_lose_and_duplicate_nothing(
    make_database_url, db_kind: str, capsys: pytest.CaptureFixture[str]
):
    url = make_database_url("crash_full")
    crash.synchronous_commits(url)

    report = crash.run(url, label=db_kind, kills=20)

    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert report.problems == []
    assert report.kills == 20
    assert report.duplicates == 0
    assert report.lost_answers >= 20
    assert report.integrity.startswith("ok")


def test_a_server_killed_under_load_keeps_every_acknowledged_write_once(make_database_url):
    url = make_database_url("crash")

    report = crash.run(url, label="smoke", kills=1, threads=3, members=12, polls=2, seed_value=8)

    assert report.problems == []
    assert report.kills == 1
    assert sum(report.acknowledged.values()) > 0
    assert report.acknowledged["ballot"] > 0
    assert report.acknowledged["comment"] > 0
    assert report.duplicates == 0
    assert report.integrity.startswith("ok")
    assert report.foreign_keys_checked > 50
    assert report.unique_checked > 20


def test_without_keys_the_checks_catch_the_duplicated_retries(make_database_url):
    url = make_database_url("crash_control")

    # No kills: half the answers are dropped by the client, which sends the write again.
    report = crash.run(
        url,
        label="control",
        kills=0,
        threads=2,
        # Enough members that the duplicated comments stay under the comments-a-minute limit.
        members=24,
        polls=1,
        up_seconds=(3.0, 3.0),
        keys=False,
        dropped_share=0.5,
        seed_value=9,
    )

    assert report.dropped_answers > 0
    # (A busy machine may add 429s: a duplicated comment counts against its author's limit.)
    assert report.duplicates > 0
    assert any("stored more than once" in problem for problem in report.problems)
