"""MkDocs hook and helpers: one language at a time (mkdocs-static-i18n, folder layout).

- Pages live in `site/zh/` (Chinese, the default, built at the site's root) and `site/en/` (English, built under
  `en/`). Files outside both folders (assets/, examples/, signing-vectors.json) are shared.
- The plugin builds the site once per language. A hook that generates pages calls `add_file(files, config, path,
  content)` from its `on_files` (decorated `@event_priority(GENERATED)`, so it runs after the plugin has sorted
  the docs' own files) with a path inside the language tree ("reference/api.md"), once per build, in the
  build's language (`language(config)`); the file lands at `path` for Chinese and at `en/path` for English, with
  the other language's copy as its alternate (the header's language switch goes there).
- A page still made the old way (File.generated from memory, at the default priority) is moved into each
  language's tree after the plugin ran, with the same text in both: write it per language instead.
- Search is per language: the plugin leaves one index of both languages at the root; after the last build this
  hook writes the Chinese entries to search/ and the English ones to en/search/ (JSON, and the inlined script the
  offline plugin reads from a folder opened as file://), and points each English page's search at en/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
# After mkdocs-static-i18n's own on_files (-100): generated pages are added to the files it kept.
GENERATED = -110


class I18nError(RuntimeError):
    """The site's language layout is broken."""


def language(config: MkDocsConfig) -> str:
    """The language of the build in progress."""
    plugin = config.plugins.get("i18n")
    lang = getattr(plugin, "current_language", None)
    if lang not in LANGUAGES:
        raise I18nError("mkdocs-static-i18n is not configured in mkdocs.yml (plugins: i18n)")
    return str(lang)


def page_language(page: Page) -> str:
    """The language a page is written in, from its place in the source tree."""
    first = page.file.src_uri.split("/", 1)[0]
    return first if first in LANGUAGES else DEFAULT


def dest_of(lang: str, path: str, use_directory_urls: bool = False) -> str:
    """Where `path` (inside a language tree, e.g. "reference/api.md") is written for `lang`."""
    if path.endswith(".md"):
        path = path[: -len(".md")] + ".html"
    return path if lang == DEFAULT else f"{lang}/{path}"


TREE_LINK = re.compile(r"\]\(((?:\.\./)+)(?:zh|en)/")


def add_file(files: Files, config: MkDocsConfig, path: str, content: str | bytes) -> File:
    """A generated page or file of the build's language, at `path` inside that language's tree."""
    lang = language(config)
    if isinstance(content, str) and path.endswith(".md"):
        # Links written for the old single tree (../zh/x.md from reference/) point inside this language's tree.
        content = TREE_LINK.sub(r"](\1", content)
    f = File.generated(config, f"{lang}/{path}", content=content)
    f.dest_uri = dest_of(lang, path)
    # What mkdocs-static-i18n sets on the files it sorts: the language switch links to the alternates.
    f.locale = lang  # type: ignore[attr-defined]
    f.localization = lang  # type: ignore[attr-defined]
    f.locale_alternate_of = lang  # type: ignore[attr-defined]
    f.norm_src_uri = path  # type: ignore[attr-defined]
    f.alternates = {  # type: ignore[attr-defined]
        other: (f if other == lang else SimpleNamespace(url=dest_of(other, path))) for other in LANGUAGES
    }
    files.append(f)
    return f


# ---- pages generated the old way ----------------------------------------------------------------------------
log = get_plugin_logger("tools.mkdocs_i18n")
_stashed: list[File] = []


@event_priority(-90)  # after the hooks' own on_files (priority 0), before mkdocs-static-i18n's (-100)
def _stash_generated(files: Files, config: MkDocsConfig) -> Files:
    """A file made with File.generated from memory would stop the plugin, which sorts files by their path on disk:
    take such files out before it runs ..."""
    _stashed.clear()
    for f in list(files):
        if f.abs_src_path is None:
            _stashed.append(f)
            files.remove(f)
    return files


@event_priority(GENERATED)
def _restore_generated(files: Files, config: MkDocsConfig) -> Files:
    """... and add them back in the build's language, at the same path in its tree (the same text in both
    languages: write the page per language with add_file instead)."""
    lang = language(config)
    for f in _stashed:
        first, _, rest = f.src_uri.partition("/")
        if first in LANGUAGES:
            if first != lang:
                continue
            path = rest
        else:
            path = f.src_uri
            if f.is_documentation_page():
                log.info(f"{path}: one text for both languages; write it per language with add_file")
        add_file(files, config, path, f.content_string if f.is_documentation_page() else f.content_bytes)
    _stashed.clear()
    return files


on_files = CombinedEvent(_stash_generated, _restore_generated)


# ---- per-language search ---------------------------------------------------------------------------------
CONFIG_BASE = re.compile(r'(<script id="__config" type="application/json">\{[^<]*?"base": ")([^"]*)(")')


HEAD_ALTERNATE = re.compile(r'<link rel="alternate" href="[^"]*" hreflang="[^"]*">\n?')


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    # Material fetches sitemap.xml beside each <link rel="alternate"> of the head to map pages across languages;
    # the plugin points them at pages, so each fetch would 404. The header's switch links the twin page itself.
    output = HEAD_ALTERNATE.sub("", output)
    lang = page_language(page)
    if lang == DEFAULT:
        return output
    # Search (the index, and the links of its results) is relative to the configured base: the language's tree.
    # The trailing slash matters: the theme resolves "search/search_index.json" against it with new URL().
    output, count = CONFIG_BASE.subn(lambda m: f"{m[1]}{m[2]}/{lang}/{m[3]}", output, count=1)
    if count != 1:
        raise I18nError(f"{page.file.src_uri}: the theme's __config script changed; update tools/mkdocs_i18n.py")
    return output


def split_index(site_dir: Path) -> dict[str, int]:
    """Write each language's entries to its own index; the entries' count per language."""
    root = site_dir / "search" / "search_index.json"
    index: dict[str, Any] = json.loads(root.read_text(encoding="utf-8"))
    counts = {}
    for lang in LANGUAGES:
        prefix = "" if lang == DEFAULT else f"{lang}/"
        others = tuple(f"{o}/" for o in LANGUAGES if o != DEFAULT and o != lang)
        if lang == DEFAULT:
            docs = [d for d in index["docs"] if not d["location"].startswith(tuple(f"{o}/" for o in LANGUAGES))]
        else:
            docs = [
                {**d, "location": d["location"][len(prefix) :]}
                for d in index["docs"]
                if d["location"].startswith(prefix) and not d["location"].startswith(others)
            ]
        out = {**index, "config": {**index["config"], "lang": [lang]}, "docs": docs}
        folder = site_dir / prefix / "search"
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        (folder / "search_index.json").write_text(data, encoding="utf-8")
        # The offline plugin's form: the index inlined into a script, for a site opened from a folder.
        (folder / "search_index.js").write_text(f"var __index = {data}", encoding="utf-8")
        counts[lang] = len(docs)
    return counts


@event_priority(-200)  # after mkdocs-static-i18n has built every language and merged their search entries
def on_post_build(config: MkDocsConfig) -> None:
    plugin = config.plugins.get("i18n")
    if plugin is None or getattr(plugin, "building", False):
        return  # a language's own build inside the plugin's loop: the merged index is not written yet
    counts = split_index(Path(config.site_dir))
    empty = [lang for lang, n in counts.items() if not n]
    if empty:
        raise I18nError(f"the search index has no entry in {empty}")
