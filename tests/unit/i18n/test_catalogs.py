"""The catalogs hold every string of the interface, and Japanese translates each one."""

from __future__ import annotations

import os
import re
from configparser import RawConfigParser

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import i18n
from app.config import PROJECT_ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """babel.cfg, read as `pybabel extract -F babel.cfg` reads it."""
    parser = RawConfigParser()
    parser.read(PROJECT_ROOT / "babel.cfg")
    methods, options = [], {}
    for section in parser.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        methods.append((pattern, method))
        options[pattern] = dict(parser.items(section))
    return methods, options


def _searched(path: str) -> bool:
    """The folders `make messages` searches: all but hidden ones and node_modules (Babel's
    own default would skip `templates/_macros` too)."""
    name = os.path.basename(path)
    return not name.startswith(".") and name != "node_modules"


def extracted() -> dict[str, str]:
    """Each message id of the code and templates, with where it was found."""
    methods, options = method_map()
    found: dict[str, str] = {}
    for filename, line, message, _comments, context in extract_from_dir(
        PROJECT_ROOT, methods, options, directory_filter=_searched
    ):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault((context + "\x04" if context else "") + key, f"{filename}:{line}")
    return found


def catalog(language: str) -> Catalog:
    with i18n.po_path(language).open("rb") as file:
        return read_po(file, locale=language)


def translations(language: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for message in catalog(language):
        if not message.id or "fuzzy" in message.flags:
            continue
        key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
        raw = message.string if isinstance(message.string, tuple) else (message.string,)
        strings = [str(form or "") for form in raw]
        entries[(message.context + "\x04" if message.context else "") + key] = strings
    return entries


@pytest.fixture(scope="module")
def strings() -> dict[str, str]:
    found = extracted()
    assert len(found) > 10
    return found


@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
def test_every_string_of_the_interface_is_in_the_catalog(strings, language):
    present = translations(language)
    missing = [f"{where}: {key!r}" for key, where in strings.items() if key not in present]
    assert not missing, "run `make messages`, then translate:\n" + "\n".join(missing)


def test_japanese_translates_every_string_with_the_same_placeholders(strings):
    japanese = translations("ja")
    problems = []
    for key, where in strings.items():
        forms = japanese.get(key, [])
        if not forms or not all(forms):
            problems.append(f"{where}: {key!r} has no translation")
            continue
        wanted = set(PLACEHOLDER.findall(key))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"{where}: {key!r} -> {form!r}: placeholders differ")
    assert not problems, "\n".join(problems)


def test_the_catalogs_hold_nothing_the_interface_no_longer_says(strings):
    for language in i18n.LANGUAGES:
        stale = sorted(set(translations(language)) - set(strings))
        assert not stale, f"{language}: run `make messages` to drop {stale}"
