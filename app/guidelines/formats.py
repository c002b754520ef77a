"""The guidelines for machines and for download: Markdown and an Atom feed of changes."""

from __future__ import annotations

import re

from app.communities.models import Community
from app.guidelines.models import DocumentVersion
from app.guidelines.service import Document, TranslationView, citation

FEED_ENTRIES = 50
# What XML 1.0 cannot carry (C0 controls but tab and line breaks, surrogates, U+FFFE/FFFF).
# Names and titles may hold them (a terminal escape pasted into a title): a feed with one is
# not XML, so they are left out of the feed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def to_markdown(doc: Document, translated: dict[int, TranslationView] | None = None) -> str:
    """The document as Markdown: headings for sections, each clause with its citation; a
    clause with a translation (by clause id) in it, the authoritative text quoted after."""
    translated = translated or {}
    version = doc.version
    lines = [f"# {doc.community.name}: community guidelines", ""]
    if version is None:
        lines += ["These guidelines have not been published yet.", ""]
    else:
        lines += [
            f"Version {version.number}, published {version.published_at:%Y-%m-%d}."
            + (" (Not the current version.)" if not doc.is_current else ""),
            "",
        ]
    if doc.tag:
        lines += [
            f"Only the clauses that apply to `{doc.tag}` works, and those for every work.",
            "",
        ]
    for section in doc.sections:
        lines += [f"## {section.section.number}. {section.section.title}", ""]
        for item in section.clauses:
            shown = translated.get(item.clause.id)
            if shown is None:
                lines += [
                    f"### {item.number} {item.clause.title}",
                    "",
                    item.version.text.strip(),
                    "",
                ]
            else:
                lines += _translated(item.number, item.clause.title, item.version.text, shown)
            if item.tags:
                lines += [f"Applies to: {', '.join(item.tags)}.", ""]
            lines += [f"*{citation(item.version)}.*", ""]
    return "\n".join(lines).rstrip() + "\n"


def _translated(number: str, title: str, text: str, shown: TranslationView) -> list[str]:
    """A translated clause: the translation, then the authoritative text, quoted; when the
    translation is out of date, the authoritative text comes first and the warning with it."""
    translation = shown.translation
    authoritative = "\n".join(f"> {line}".rstrip() for line in text.strip().split("\n"))
    made = f"Translation ({translation.language}) of clause version {shown.translated_version}"
    if shown.out_of_date:
        return [
            f"### {number} {title}",
            "",
            text.strip(),
            "",
            f"*{made}, made for an earlier version of the clause; it may be out of date:*",
            "",
            "\n".join(f"> {line}".rstrip() for line in translation.text.strip().split("\n")),
            "",
        ]
    return [
        f"### {number} {translation.title}",
        "",
        translation.text.strip(),
        "",
        f"*{made}. The authoritative text, “{title}”:*",
        "",
        authoritative,
        "",
    ]


def atom_feed(
    community: Community,
    changes: list[DocumentVersion],
    *,
    page_url: str,
    feed_url: str,
    version_url: str,
) -> bytes:
    """An Atom feed (RFC 4287) of published versions, newest first.

    `version_url` is a format string with `{number}`: where each version can be read.
    """
    # feedgen and lxml (5 MB) load with the first feed asked for, not in every worker.
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(feed_url)
    name = _xml(community.name)
    feed.title(f"{name}: guideline changes")
    feed.subtitle(f"Each new version of the community guidelines of {name}.")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.author({"name": name})
    feed.language("en")
    if changes:
        feed.updated(changes[0].published_at)
    else:
        feed.updated(community.created_at)
    for version in reversed(changes[:FEED_ENTRIES]):
        entry = feed.add_entry()
        url = version_url.format(number=version.number)
        entry.id(url)
        summary = _xml(version.summary)
        entry.title(f"Version {version.number}: {summary}")
        entry.link(href=url, rel="alternate", type="text/html")
        entry.updated(version.published_at)
        entry.published(version.published_at)
        entry.summary(summary)
        if version.published_by is not None:
            entry.author({"name": _xml(version.published_by.display_name)})
    return bytes(feed.atom_str(pretty=True))
