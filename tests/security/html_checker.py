"""A checker for rendered pages: no script but the site's own, no event handler, no dangerous URL.

It parses HTML with the standard library's `html.parser` (tokenizing as browsers do: entities in
attribute values are decoded, so `javascript&#58;` is seen as `javascript:`) and reports every
element or attribute that could run script or load content on a page that shows what members
wrote. `check_feed` does the same for the HTML inside an Atom feed, after parsing it as XML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser

#: Where the site's own scripts, styles and icons live.
STATIC_PREFIX = "/static/"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

#: Attributes whose value a browser follows, loads or submits to.
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "poster",
        "background",
        "cite",
        "data",
        "codebase",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "manifest",
        "icon",
        "ping",
        "usemap",
        "srcset",
        "imagesrcset",
    }
)
#: htmx and its SSE extension request these addresses: they must stay on this site.
SAME_SITE_ATTRIBUTES = frozenset(
    {"hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "sse-connect"}
)
FORBIDDEN_ELEMENTS = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal", "style"}
)
#: SVG elements that can set an attribute (an href) to a value of their own.
SVG_SETTERS = frozenset({"set", "animate", "animatetransform", "animatemotion"})
#: Attributes that carry a whole document of their own.
DANGEROUS_ATTRIBUTES = frozenset({"srcdoc"})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# What browsers drop before they read a URL: ASCII tab and newlines anywhere, C0 controls and
# spaces at either end (WHATWG URL parser).
_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_CSS_NOISE = re.compile(r"/\*.*?\*/|\\|\s", re.S)


@dataclass(frozen=True)
class Finding:
    """One unsafe thing in a page: the rule it breaks, where, and what was found."""

    rule: str
    element: str
    detail: str
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: <{self.element}> {self.rule}: {self.detail[:200]!r}"


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in `value`, lower-case; None for a relative URL."""
    cleaned = _URL_NOISE.sub("", value).strip(_URL_EDGES)
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def is_same_site(value: str) -> bool:
    """A path on this site: relative, or absolute without a scheme or another host."""
    cleaned = _URL_NOISE.sub("", value).strip(_URL_EDGES)
    if url_scheme(cleaned) is not None:
        return False
    # `//host` and `\\host` (browsers read backslashes as slashes) are other sites.
    return not cleaned.replace("\\", "/").startswith("//")


def _srcset_urls(value: str) -> list[str]:
    return [part.strip().split(" ")[0] for part in value.split(",") if part.strip()]


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self._in_script = False

    def _report(self, rule: str, element: str, detail: str) -> None:
        self.findings.append(Finding(rule, element, detail, self.getpos()[0]))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self._report("inline script", "script", data)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in FORBIDDEN_ELEMENTS:
            self._report("forbidden element", tag, str(values))
        if tag == "script":
            src = values.get("src")
            if src is None:
                self._report("script without src", tag, str(values))
            elif not (is_same_site(src) and src.startswith(STATIC_PREFIX)):
                self._report("script not from the site's static files", tag, src)
        if tag == "link" and not is_same_site(values.get("href", "")):
            self._report("link to another site", tag, values.get("href", ""))
        if tag == "meta" and values.get("http-equiv", "").strip().lower() == "refresh":
            self._report("meta refresh", tag, values.get("content", ""))
        if tag in SVG_SETTERS and "href" in values.get("attributename", "").lower():
            self._report("SVG animation of a link", tag, str(values))
        for name, value in values.items():
            self._check_attribute(tag, name, value)

    def _check_attribute(self, tag: str, name: str, value: str) -> None:
        bare = name.removeprefix("data-")
        if name.startswith("on") or bare.startswith(("hx-on", "hx-vals", "hx-vars")):
            self._report("event handler attribute", tag, f"{name}={value}")
        elif name in DANGEROUS_ATTRIBUTES:
            self._report("dangerous attribute", tag, f"{name}={value}")
        if name == "style":
            css = _CSS_NOISE.sub("", value).lower()
            if any(word in css for word in ("url(", "expression(", "@import", "behavior:")):
                self._report("style that loads or runs", tag, value)
        urls = _srcset_urls(value) if name in ("srcset", "imagesrcset") else [value]
        if name in URL_ATTRIBUTES:
            for url in urls:
                scheme = url_scheme(url)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self._report(f"dangerous URL in {name}", tag, url)
        if bare in SAME_SITE_ATTRIBUTES and not is_same_site(value):
            self._report(f"request to another site in {name}", tag, value)


def check_html(html: str) -> list[Finding]:
    """Everything unsafe in a page or fragment; an empty list for a safe one."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.findings


def assert_safe_html(html: str, where: str = "") -> None:
    findings = check_html(html)
    assert not findings, f"{where}: " + "; ".join(str(f) for f in findings[:5])


ATOM = "{http://www.w3.org/2005/Atom}"


def check_feed(xml: bytes) -> list[Finding]:
    """An Atom feed: it must parse as XML, link only to http(s), and its HTML must be safe."""
    # Raises ParseError for a feed that is not well-formed XML: a reader would drop it.
    root = ET.fromstring(xml)  # noqa: S314 - the app's own output, checked in a test
    findings: list[Finding] = []
    for element in root.iter():
        name = element.tag.removeprefix(ATOM)
        for attribute in ("href", "src", "uri"):
            value = element.get(attribute)
            if value is not None and url_scheme(value) not in SAFE_SCHEMES:
                findings.append(Finding(f"dangerous URL in {attribute}", name, value, 0))
        if name in ("uri", "icon", "logo") and url_scheme(element.text or "") not in SAFE_SCHEMES:
            findings.append(Finding("dangerous URL", name, element.text or "", 0))
        kind = element.get("type", "text")
        if kind == "html":
            findings += check_html(element.text or "")
        elif kind == "xhtml":
            findings += check_html(ET.tostring(element, encoding="unicode"))
    return findings
