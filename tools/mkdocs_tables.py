"""MkDocs hook: tables readable on a phone.

Each body cell of every content table gets `data-label` with its column's header, so that on a narrow screen
site/assets/treatfirst.css shows each row as a card of labelled lines instead of a box that scrolls sideways
(tests/browser checks that no table is wider than a 390-pixel phone). Desktops see the plain table.
"""

from __future__ import annotations

import html
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

TABLE = re.compile(r"<table>(.*?)</table>", re.S)
HEAD = re.compile(r"<thead>(.*?)</thead>", re.S)
HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
BODY_CELL = re.compile(r"<td(?=[\s>])")
TAG = re.compile(r"<[^>]+>")


def _text(cell: str) -> str:
    return " ".join(html.unescape(TAG.sub("", cell)).split())


def labelled(table: str) -> str:
    """The table with each body cell labelled by its column's header (a table without a header is left as is)."""
    head = HEAD.search(table)
    if head is None:
        return table
    labels = [_text(cell) for cell in HEADER_CELL.findall(head[1])]
    start = head.end()

    def label_row(row: re.Match[str]) -> str:
        names = iter(labels)
        return BODY_CELL.sub(lambda _: f'<td data-label="{html.escape(next(names, ""), quote=True)}"', row[0])

    return table[:start] + ROW.sub(label_row, table[start:])


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: object) -> str:
    return TABLE.sub(lambda m: f"<table>{labelled(m[1])}</table>", content)
