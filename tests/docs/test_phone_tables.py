"""Tables on a phone: every body cell carries its column's header, which the phone stylesheet shows as the label
of each line of a row's card (the browser tier checks the widths)."""

from __future__ import annotations

from pathlib import Path

from tests.docs.test_site_builds import html_file
from tools.mkdocs_tables import labelled

ROOT = Path(__file__).resolve().parents[2]


def test_each_body_cell_is_labelled_with_its_column() -> None:
    # Given a table as Python-Markdown writes it, a header cell with markup and a body cell with an attribute
    table = (
        "<thead><tr><th>字段</th><th>类型 <code>x</code></th></tr></thead>"
        '<tbody><tr><td><code>a</code></td><td align="left">string</td></tr><tr><td>b</td><td></td></tr></tbody>'
    )
    # When it is labelled
    out = labelled(table)
    # Then each body cell names its column, the header's text without markup, and the header row is untouched
    assert out.count('<td data-label="字段">') == 2 and out.count('<td data-label="类型 x"') == 2
    assert '<td data-label="类型 x" align="left">string</td>' in out
    assert "<th>字段</th>" in out
    # And a table without a header row is left as it is
    assert labelled("<tbody><tr><td>x</td></tr></tbody>") == "<tbody><tr><td>x</td></tr></tbody>"


def test_the_built_pages_label_their_cells_and_the_phone_stylesheet_uses_the_labels(built: Path) -> None:
    for name in ("reference/api/visits", "en/reference/errors", "cities/xiamen"):
        raw = html_file(built, name).read_text(encoding="utf-8")
        assert "<td>" not in raw and "<td data-label=" in raw, name
    css = (ROOT / "site" / "assets" / "treatfirst.css").read_text(encoding="utf-8")
    assert "content: attr(data-label)" in css and "max-width: 44.9375em" in css
