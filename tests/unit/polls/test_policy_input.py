"""Settings typed into the poll-policy form: whole numbers only, a clear problem otherwise."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.polls import policy


@pytest.mark.parametrize("typed", ["--5", "-", "5-", "٣٠", "3 0", "1e2", "30.5", ""])
def test_anything_but_a_whole_number_is_a_problem_of_the_field(typed):
    with pytest.raises(ValidationFailed) as refused:
        policy.changed(policy.PollPolicy(), {"quorum": typed})
    assert refused.value.fields == {"quorum": "Use a whole percent from 0 to 100."}


@pytest.mark.parametrize(("typed", "stored"), [("30", 30), (" 45 ", 45), (0, 0)])
def test_whole_numbers_are_taken(typed, stored):
    assert policy.changed(policy.PollPolicy(), {"quorum": typed}).quorum == stored
