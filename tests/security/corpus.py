"""Hostile strings: the Big List of Naughty Strings (shipped in `data/`) and our own additions.

`ALL` is every string: each goes through the Markdown renderer and the templates' escaping.
`CORE` is the short list every field of the running app is filled with, besides its share of
blns (see `test_hostile_input`).
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"

#: blns 2.0.4 (npm), `resources/blns.json`: 485 strings, MIT (see data/README.md).
BLNS: list[str] = json.loads((DATA / "blns.json").read_text(encoding="utf-8"))

JS = "alert(1)"

#: Links with schemes that run script or carry a document, however they are spelled.
LINKS = [
    f"[click](javascript:{JS})",
    f"[click](JaVaScRiPt:{JS})",
    f"[click](  javascript:{JS} )",
    f"[click](<javascript:{JS}>)",
    f"[click](java\tscript:{JS})",
    f"[click](javascript&#58;{JS})",
    f"[click](javascript&colon;{JS})",
    f"[click](&#106;avascript:{JS})",
    f"[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;{JS})",
    f"[click](%6Aavascript:{JS})",
    f"[click](\x01javascript:{JS})",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](DATA:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    f"<javascript:{JS}>",
    f"<JaVaScRiPt:{JS}>",
    "<data:text/html,<script>alert(1)</script>>",
    "<vbscript:msgbox(1)>",
    f'[click][ref]\n\n[ref]: javascript:{JS} "title"',
    f"[click][ref]\n\n[ref]: <javascript:{JS}>",
    f"[![pic](https://example.org/x.png)](javascript:{JS})",
    f'[click](https://example.org/"onmouseover="{JS})',
    f'<https://example.org/"onmouseover="{JS}>',
    f"<https://example.org/'onmouseover='{JS}>",
    f"javascript:{JS}",
    f"JAVASCRIPT:{JS}",
    f" javascript:{JS}",
    f"\x0bjavascript:{JS}",
    f"jav\tascript:{JS}",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "vbscript:msgbox(1)",
    f"https:javascript:{JS}",
    "//evil.example/x.js",
    f'https://example.org/"><script>{JS}</script>',
    f"https://example.org/#'onmouseover='{JS}",
]

#: Raw HTML that must come out as text: scripts, handlers, frames, styles, SVG and MathML.
HTML = [
    f"<script>{JS}</script>",
    f"<ScRiPt>{JS}</sCrIpT>",
    "<script src=https://evil.example/x.js></script>",
    f"<img src=x onerror={JS}>",
    f'<img src="javascript:{JS}">',
    f'<a href="#" onclick="{JS}">click</a>',
    f'<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{JS}">click</a>',
    f'<a href="javascript&#x3A;{JS}">click</a>',
    f'<a href="jav&#x09;ascript:{JS}">click</a>',
    f'<a href=" &#14; javascript:{JS}">click</a>',
    f"<body onload={JS}>",
    f"<details open ontoggle={JS}>",
    f"<svg onload={JS}>",
    f"<svg><script>{JS}</script></svg>",
    f'<svg><a xlink:href="javascript:{JS}"><text>click</text></a></svg>',
    f"<svg><animate attributeName=href values=javascript:{JS} /></svg>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={JS}>",
    f'<iframe src="javascript:{JS}"></iframe>',
    f'<iframe srcdoc="<script>{JS}</script>"></iframe>',
    f'<object data="javascript:{JS}"></object>',
    f'<embed src="javascript:{JS}">',
    '<base href="https://evil.example/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">',
    f'<form action="javascript:{JS}"><button>go</button></form>',
    f'<button formaction="javascript:{JS}">go</button>',
    f'<div style="background:url(javascript:{JS})">x</div>',
    f'<div style="width:expression({JS})">x</div>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<div hx-get="https://evil.example/" hx-trigger="load">x</div>',
    f'<a hx-on:click="{JS}">click</a>',
    f"<div hx-vals='js:{{a: {JS}}}'>x</div>",
    f'"><script>{JS}</script>',
    f"'><script>{JS}</script>",
    f'" autofocus onfocus="{JS}',
    f"' autofocus onfocus='{JS}",
    f"` onmouseover={JS}",
    f"</textarea><script>{JS}</script>",
    f"</title><script>{JS}</script>",
    f"</q><script>{JS}</script>",
    f"<!-- <script>{JS}</script> -->",
    f"<![CDATA[<script>{JS}</script>]]>",
    f"&lt;script&gt;{JS}&lt;/script&gt;",
    f"&#60;script&#62;{JS}&#60;/script&#62;",
]

#: Markdown constructs that try to smuggle attributes or markup through the renderer.
MARKDOWN = [
    f"![pic](javascript:{JS})",
    f'![pic" onerror="{JS}](https://example.org/x.png)',
    f'![pic](https://example.org/x.png "\\" onerror=\\"{JS}")',
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    f'[click](https://example.org "\\"><script>{JS}</script>")',
    f"[click](https://example.org '\" onmouseover=\"{JS}')",
    f'[click](https://example.org (title" onclick="{JS}))',
    f"`<script>{JS}</script>`",
    f"```html\n<script>{JS}</script>\n```",
    f"    <script>{JS}</script>",
    f"*<script>*{JS}*</script>*",
    f"> <script>{JS}</script>",
    f"| a | b |\n|---|---|\n| <script>{JS}</script> | [x](javascript:{JS}) |",
    f"# <img src=x onerror={JS}>",
    f"- [x](javascript:{JS})\n- <svg onload={JS}>",
    f"[a]: javascript:{JS}\n[b]: https://example.org\n\n[a] [b]",
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7} <%= 7*7 %>",
    "{{ config.items() }}{{ request }}",
    f"\\<script\\>{JS}\\</script\\>",
    f"<scr<script>ipt>{JS}</scr</script>ipt>",
]

#: Characters that break lengths, layouts, terminals and databases.
CHARACTERS = [
    "\u202egnp.exe",
    "user\u202e\u2066name\u2069",
    "\u202dRight\u202c\u202eLeft\u202c",
    "\u2067\u2069\u200f\u200e",
    "\u200b\u200c\u200d\u2060\ufeff",
    "a\x00b",
    "\x00",
    "\x01\x02\x03\x04\x05\x06\x07\x08",
    "\x0b\x0c\x0e\x0f\x10\x1b[31mred\x1b[0m",
    "\x7f\x80\x85\x9f",
    "line\u2028separator\u2029paragraph",
    "a\r\nSet-Cookie: injected=1",
    "\uffff\ufffe\U0010ffff",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a" * 20,
    "\U0001f600" * 300,
    "A" * 5000,
    f"<script>{JS}</script>" * 400,
    "[x](javascript:alert(1)) " * 400,
    "x" * 100_001,
]

ADDITIONS: list[str] = LINKS + HTML + MARKDOWN + CHARACTERS
#: What every field of the running app is filled with, besides its share of blns: a way out of
#: each escaping context (element text, quoted attributes, textarea and title), raw HTML that
#: runs or loads, each dangerous scheme as plain text, Markdown link, autolink and entity, the
#: Markdown tricks, and each kind of character that breaks storage, feeds, mail or terminals.
CORE: list[str] = [
    f"<script>{JS}</script>",
    f'"><script>{JS}</script>',
    f"'><img src=x onerror={JS}>",
    f'" autofocus onfocus="{JS}',
    f"' autofocus onfocus='{JS}",
    f"</textarea><script>{JS}</script>",
    f"</title><svg onload={JS}>",
    f'<iframe src="javascript:{JS}"></iframe>',
    f'<a href="&#106;avascript&#58;{JS}" hx-on:click="{JS}" '
    f'style="background:url(javascript:{JS})">click</a>',
    f"javascript:{JS}",
    f" JaVaScRiPt:{JS}",
    "data:text/html,<script>alert(1)</script>",
    f"[click](javascript:{JS})",
    f"[click](javascript&#58;{JS}) <javascript:{JS}>",
    f'[click](https://example.org "\\"><script>{JS}</script>")',
    f'![pic" onerror="{JS}](https://example.org/x.png)',
    f"```html\n<script>{JS}</script>\n```",
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7} <%= 7*7 %>",
    "'; DROP TABLE users; --",
    "\u202egnp.exe\u200b\ufeff",
    "a\x00b",
    "\x01\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f\x85",
    "a\r\nSet-Cookie: injected=1",
    "line\u2028separator\u2029paragraph",
    "\U0001f600" * 300,
    "A" * 5000,
    "x" * 100_001,
    "",
    "   ",
    "-1",
    "1e309",
]

#: Every string: blns, our additions and the core, each once.
ALL: list[str] = list(dict.fromkeys(BLNS + ADDITIONS + CORE))
