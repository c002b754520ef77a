"""The password policy (NIST SP 800-63B: length and a blocklist, no composition rules), hashing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.accounts import passwords
from tests.conftest import CHEAP_ARGON2


@pytest.fixture
def restore_argon2() -> Iterator[None]:
    yield
    passwords.configure(
        time_cost=CHEAP_ARGON2["argon2_time_cost"],
        memory_cost_kib=CHEAP_ARGON2["argon2_memory_cost_kib"],
        parallelism=CHEAP_ARGON2["argon2_parallelism"],
    )


def test_nine_characters_are_too_short():
    assert passwords.password_problem("x7#kq!m2p") == "Use at least 10 characters."


def test_ten_characters_are_enough():
    assert passwords.password_problem("x7#kq!m2pz") is None


@pytest.mark.parametrize("length", [64, 256])
def test_long_passwords_are_allowed(length):
    assert passwords.password_problem(("zebra-lamp-" * 30)[:length]) is None


def test_more_than_256_characters_are_refused():
    assert passwords.password_problem("z" * 257) == "Use at most 256 characters."


@pytest.mark.parametrize("common", ["1234567890", "qwertyuiop", "QwErTyUiOp", "PASSWORD1234"])
def test_common_passwords_are_refused_whatever_the_case(common):
    problem = passwords.password_problem(common)
    assert problem is not None
    assert "commonly used" in problem


def test_the_common_list_is_read_from_the_data_file():
    listed = passwords._common_passwords()
    assert "1234567890" in listed
    assert "qwertyuiop" in listed
    # Comment lines are not passwords.
    assert not any(entry.startswith("#") for entry in listed)


def test_password_equal_to_username_is_refused_case_insensitively():
    problem = passwords.password_problem("Miku-Fan-01", username="miku-fan-01")
    assert problem == "Your password cannot be your username."


def test_password_equal_to_email_is_refused_case_insensitively():
    problem = passwords.password_problem("Miku@Example.org", email="miku@example.org")
    assert problem == "Your password cannot be your email address."


@pytest.mark.parametrize(
    "password",
    [
        "onlylowercaseletters",  # no digits, no capitals, no symbols
        "ALLUPPERCASEWORDS",
        "7392018465",  # digits only, but not on the list
        "spaces are fine in passphrases",
        "ünïcödé-pässwörd",
    ],
)
def test_no_composition_rules(password):
    assert passwords.password_problem(password) is None


def test_hash_is_argon2id_and_verifies():
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse batterY")


def test_same_password_hashes_differently_each_time():
    assert passwords.hash_password("correct horse battery") != passwords.hash_password(
        "correct horse battery"
    )


def test_verify_without_a_hash_is_false():
    assert passwords.verify_password(None, "anything at all") is False


def test_verify_with_a_malformed_hash_is_false():
    assert passwords.verify_password("not-a-hash", "anything at all") is False


@pytest.mark.usefixtures("restore_argon2")
def test_changed_cost_means_rehash():
    hashed = passwords.hash_password("correct horse battery")
    assert not passwords.needs_rehash(hashed)
    passwords.configure(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert passwords.needs_rehash(hashed)
    # Old hashes still verify after the cost changed.
    assert passwords.verify_password(hashed, "correct horse battery")
