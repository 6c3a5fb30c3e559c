"""Renderer-neutral report blocks and their two renderings: a self-contained HTML page and Markdown.

The report (:mod:`xrec_lib.report`) is built once as a list of blocks, so ``index.html`` and ``index.md`` carry
the same content. Inline content is plain text, a :class:`Link` or a :class:`Badge` (a status word drawn as a
coloured label in HTML and in bold in Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d232a;max-width:1180px;margin:0 auto;
padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.7em;margin:.2em 0 .4em}h2{border-bottom:2px solid #d8dee4;padding-bottom:.2em;margin-top:2em}
h3{margin:1.6em 0 .3em;font-size:1.12em}p{margin:.35em 0}a{color:#0b5cad}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:13px;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.2em 0;color:#444}
th,td{border:1px solid #d8dee4;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}
figure{margin:.8em 0}figure img{max-width:100%;height:auto;border:1px solid #e4e7ea}
figcaption{font-size:13px;color:#555}details{margin:.4em 0 1em}summary{cursor:pointer;font-weight:600;color:#444}
.badge{display:inline-block;padding:0 .5em;border-radius:.7em;font-size:12.5px;font-weight:600;white-space:nowrap;
background:#e6e8eb;color:#333}
.b-replicated,.b-produced,.b-ok,.b-cached,.b-results-only{background:#d5f2dc;color:#14532d}
.b-contradicted,.b-failed{background:#fbd9d9;color:#7f1d1d}
.b-inconclusive{background:#e8eaf6;color:#283593}
.b-not-produced,.b-no-results{background:#fdeccc;color:#7a4a00}
.b-not-reproducible{background:#eceff1;color:#37474f}.b-restated{background:#e0f2f1;color:#00574b}
.b-our-addition{background:#f3e5f5;color:#6a1b9a}
"""


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class Badge:
    text: str


Inline = str | Link | Badge
Cell = Inline | list  # a table cell: one inline part, or a list of them


@dataclass
class Heading:
    level: int
    text: str
    anchor: str


@dataclass
class Para:
    parts: list[Inline]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str
    collapsed: bool = False  # folded behind its caption (long tables)
    link: str | None = None  # relative path of the file the table comes from


@dataclass
class Figure:
    src: str  # relative path of the PNG
    caption: str
    svg: str | None = None  # relative path of the same figure as SVG


Block = Heading | Para | Table | Figure


def _html_inline(part: Inline) -> str:
    if isinstance(part, Link):
        return f'<a href="{escape(part.href)}">{escape(part.text)}</a>'
    if isinstance(part, Badge):
        css = "b-" + part.text.replace(" ", "-")
        return f'<span class="badge {escape(css)}">{escape(part.text)}</span>'
    return escape(part)


def _html_cell(cell: Cell) -> str:
    return "".join(map(_html_inline, cell)) if isinstance(cell, list) else _html_inline(cell)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in table.header)
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(cell)}</td>" for cell in row) + "</tr>"
                   for row in table.rows)
    source = f' · <a href="{escape(table.link)}">CSV</a>' if table.link else ""
    html = (f"<table><caption>{escape(table.caption)}{source}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")
    if table.collapsed:
        return f"<details><summary>{escape(table.caption)} ({len(table.rows)} rows)</summary>{html}</details>"
    return html


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f'<h{block.level} id="{escape(block.anchor)}">{escape(block.text)}</h{block.level}>'
    if isinstance(block, Para):
        return "<p>" + "".join(_html_inline(part) for part in block.parts) + "</p>"
    if isinstance(block, Table):
        return _html_table(block)
    svg = f' · <a href="{escape(block.svg)}">SVG</a>' if block.svg else ""
    return (f'<figure><a href="{escape(block.src)}"><img src="{escape(block.src)}" alt="{escape(block.caption)}">'
            f"</a><figcaption>{escape(block.caption)}{svg}</figcaption></figure>")


def to_html(blocks: list[Block], title: str) -> str:
    """A self-contained HTML page (inline CSS, no scripts, relative links only)."""
    body = "\n".join(_html_block(block) for block in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _md_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def _md_inline(part: Inline) -> str:
    if isinstance(part, Link):
        return f"[{_md_text(part.text)}]({part.href})"
    if isinstance(part, Badge):
        return f"**{_md_text(part.text)}**"
    return _md_text(part)


def _md_cell(cell: Cell) -> str:
    return "".join(map(_md_inline, cell)) if isinstance(cell, list) else _md_inline(cell)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f'<a id="{block.anchor}"></a>\n\n{"#" * block.level} {_md_text(block.text)}'
    if isinstance(block, Para):
        return "".join(_md_inline(part) for part in block.parts)
    if isinstance(block, Table):
        source = f" · [CSV]({block.link})" if block.link else ""
        lines = [f"*{_md_text(block.caption)}*{source}", "",
                 "| " + " | ".join(_md_text(cell) for cell in block.header) + " |",
                 "|" + "---|" * len(block.header)]
        lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in block.rows]
        if block.collapsed:
            lines = [f"<details><summary>{escape(block.caption)} ({len(block.rows)} rows)</summary>", "",
                     *lines[2:], "", "</details>"]
        return "\n".join(lines)
    svg = f" · [SVG]({block.svg})" if block.svg else ""
    return f"![{_md_text(block.caption)}]({block.src})\n\n{_md_text(block.caption)}{svg}"


def to_markdown(blocks: list[Block]) -> str:
    """The same blocks as Markdown: tables as pipe tables, figures as image links."""
    return "\n\n".join(_md_block(block) for block in blocks) + "\n"
