"""One language at a time: every page exists in Chinese and English, each page declares its own language, the
navigation and the search are per language (tools/mkdocs_i18n.py, mkdocs-static-i18n)."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
LANGS = ("zh", "en")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its !!python/name tags read as plain strings."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def mkdocs_yml() -> dict[str, Any]:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506


def i18n_config() -> dict[str, Any]:
    plugins = mkdocs_yml()["plugins"]
    return next(p["i18n"] for p in plugins if isinstance(p, dict) and "i18n" in p)


def nav_entries(items: list[Any]) -> list[tuple[str | None, str | None]]:
    """(title, path) of every entry, sections included (path None)."""
    out: list[tuple[str | None, str | None]] = []
    for item in items:
        if isinstance(item, str):
            out.append((None, item))
            continue
        for title, value in item.items():
            if isinstance(value, list):
                out.append((title, None))
                out += nav_entries(value)
            else:
                out.append((title, value))
    return out


def test_every_hand_written_page_exists_in_both_languages() -> None:
    # Given the two language trees
    zh = {p.relative_to(SITE / "zh").as_posix() for p in (SITE / "zh").rglob("*.md")}
    en = {p.relative_to(SITE / "en").as_posix() for p in (SITE / "en").rglob("*.md")}
    # Then each page has its other-language twin at the same path
    assert sorted(zh - en) == [], "pages with no English twin in site/en/"
    assert sorted(en - zh) == [], "pages with no Chinese twin in site/zh/"
    # And no page sits outside the two trees (it would be built in one language only)
    stray = [p.relative_to(SITE).as_posix() for p in SITE.rglob("*.md") if p.relative_to(SITE).parts[0] not in LANGS]
    assert stray == []


def test_navigation_is_language_neutral_and_every_title_has_an_english_translation() -> None:
    # Given the nav and the English translations of its titles
    entries = nav_entries(mkdocs_yml()["nav"])
    english = next(lang for lang in i18n_config()["languages"] if lang["locale"] == "en")
    translations = english["nav_translations"]
    # Then no entry points into a language folder (each path is found in the tree of the language being built)
    assert [path for _, path in entries if path and path.split("/")[0] in ("zh", "en")] == []
    # And every title is Chinese with an English translation
    untranslated = sorted({title for title, _ in entries if title and title not in translations})
    assert untranslated == []
    assert all(re.search(r"[\u4e00-\u9fff]", title) for title, _ in entries if title)


def _html_lang(raw: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', raw)
    assert found
    return found[1]


def test_each_built_page_declares_its_language_and_searches_its_own_language(built: Path) -> None:
    # Given every page of the built site
    pages = [p for p in built.rglob("*.html") if p.name != "404.html"]
    english = [p for p in pages if p.relative_to(built).parts[0] == "en"]
    chinese = [p for p in pages if p not in english]
    # Then both languages have the same pages
    assert sorted(p.relative_to(built / "en").as_posix() for p in english) == sorted(
        p.relative_to(built).as_posix() for p in chinese
    )
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        lang = "en" if page in english else "zh"
        where = page.relative_to(built).as_posix()
        # And each page says which language it is in
        assert _html_lang(raw) == lang, where
        # And its search box speaks that language, and its language switch offers the other one
        assert ('placeholder="Search"' in raw) == (lang == "en"), where
        assert ('placeholder="搜索"' in raw) == (lang == "zh"), where
        assert re.search(r'hreflang="(zh|en)" class="md-select__link"', raw), where
        # And its search (index and result links) is rooted at its language's tree, a directory URL as the theme's
        # new URL() needs it: "../en/" from en/x.html, "." from x.html
        config = json.loads(re.search(r'<script id="__config" type="application/json">(.*?)</script>', raw, re.S)[1])
        root = posixpath.normpath(posixpath.join(posixpath.dirname(where), config["base"]))
        assert root == ("en" if lang == "en" else "."), where
        assert lang == "zh" or config["base"].endswith("/en/"), where
    # And each language's search index holds that language's pages only (English ones relative to en/)
    zh_index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    en_index = json.loads((built / "en" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert zh_index["config"]["lang"] == ["zh"] and en_index["config"]["lang"] == ["en"]
    zh_pages = {d["location"].split("#")[0] for d in zh_index["docs"]}
    en_pages = {d["location"].split("#")[0] for d in en_index["docs"]}
    assert zh_pages == {p.relative_to(built).as_posix() for p in chinese}
    assert en_pages == {p.relative_to(built / "en").as_posix() for p in english}
    # And the offline form of each index (for a site opened from a folder) is the same index
    for folder in (built / "search", built / "en" / "search"):
        script = (folder / "search_index.js").read_text(encoding="utf-8")
        assert json.loads(script.removeprefix("var __index = ")) == json.loads(
            (folder / "search_index.json").read_text(encoding="utf-8")
        )


def test_the_language_switch_goes_to_the_same_page_in_the_other_language(built: Path) -> None:
    # Given a generated page and a hand-written one, in each language
    for name in ("reference/api/visits.html", "conventions.html", "cities/xiamen.html"):
        zh = (built / name).read_text(encoding="utf-8")
        en = (built / "en" / name).read_text(encoding="utf-8")
        depth = "../" * name.count("/")
        # Then the switch links each to its twin
        assert f'<a href="{depth}en/{name}" hreflang="en" class="md-select__link">' in zh
        assert f'<a href="../{depth}{name}" hreflang="zh" class="md-select__link">' in en


def test_a_page_generated_the_old_way_lands_in_each_languages_tree(tmp_path: Path) -> None:
    # Given a build of the English tree, and a hook that made a page with File.generated at the default priority
    from types import SimpleNamespace

    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import File, Files

    from tools import mkdocs_i18n

    (tmp_path / "docs").mkdir()
    config = MkDocsConfig()
    config.load_dict({"site_name": "t", "docs_dir": str(tmp_path / "docs"), "site_dir": str(tmp_path / "out")})
    assert config.validate() == ([], [])
    config.plugins["i18n"] = SimpleNamespace(current_language="en")  # type: ignore[assignment]
    config.plugins._current_plugin = "a hook"
    files = Files([File.generated(config, "reference/old.md", content="# Old\n")])
    # When the hook takes it out before the plugin sorts the files, and adds it back after
    stashed = mkdocs_i18n._stash_generated(files, config)
    # Then the plugin never sees it (it would stop on a file with no path on disk)
    assert [f.src_uri for f in stashed] == []
    restored = mkdocs_i18n._restore_generated(stashed, config)
    # And it comes back in the English tree, written under en/
    [page] = list(restored)
    assert (page.src_uri, page.dest_uri, page.content_string) == (
        "en/reference/old.md",
        "en/reference/old.html",
        "# Old\n",
    )
