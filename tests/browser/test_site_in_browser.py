"""The built docs site read in a real browser (Chromium driven by Playwright), as a reader in China would.

Over the site served on 127.0.0.1, every page of both languages (Chinese at the root, English under en/): loads
with no console error and no request to any other host; declares its own language; every Mermaid block becomes an
SVG; on a 390-pixel phone viewport no page scrolls sideways and no table is wider than the screen; axe-core finds
no serious or critical violation. Each language's search finds, for each query readers type, every page of that
language that contains the word, and no page of the other.

Screenshots of the home and API pages on a phone, and the figures (pages, bytes per first visit, foreign
requests, search hits, axe counts, run time), are written to build/browser/.

Chromium is the system's (Debian's `chromium`, installed by `make install`); Playwright downloads no browser.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "browser"
CHROMIUM = os.environ.get("TF_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Without these, Chromium's own background connections (updates, sync, QUIC probes) leave the machine.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUERIES = ("逾期", "签名", "退款", "急诊", "额度", "signature", "refund", "overdue")
# The queries each language's search must answer with at least one page.
QUERIES_OF = {"zh": QUERIES[:5], "en": QUERIES[5:]}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# [page scroll width, viewport width], then (index, width) of each content table wider than the viewport.
PHONE_WIDTHS = """() => {
    const page = [document.documentElement.scrollWidth, document.documentElement.clientWidth];
    const tables = [...document.querySelectorAll("article table")]
        .map((table, i) => [i, Math.ceil(table.getBoundingClientRect().width)])
        .filter(([, width]) => width > page[1]);
    return [page, tables];
}"""
# Material renders each diagram into a closed shadow root; the test opens it to look inside.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, { ...init, mode: "open" }); };
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Visit:
    url: str
    console_errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    local_paths: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def site(built: Path) -> Path:
    """The site the docs tier checks (tests/conftest.py builds it once per run)."""
    (OUT / "screenshots").mkdir(parents=True, exist_ok=True)
    return built


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium (or set TF_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh, temporary --user-data-dir.
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def pages_of(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if not p.name.startswith("404"))


def article_text(site: Path, page: str) -> str:
    """The words of the page's content, without the navigation (every page's sidebar names the same titles)."""
    raw = (site / page).read_text(encoding="utf-8")
    start = raw.index('<article class="md-content__inner')
    body = raw[start : raw.index("</article>", start)]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def visit(tab: Any, base_url: str, page: str) -> Visit:
    seen = Visit(page)
    host = urlsplit(base_url).netloc

    def on_request(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != host:
            seen.foreign.append(request.url)
        else:
            seen.local_paths.add(parts.path)

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    tab.on("request", on_request)
    tab.on("console", on_console)
    tab.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    try:
        tab.goto(base_url + page, wait_until="load")
        tab.wait_for_load_state("networkidle")
    finally:
        tab.remove_listener("request", on_request)
        tab.remove_listener("console", on_console)
    return seen


def test_every_page_in_a_browser(site: Path, base_url: str, browser: Any) -> None:
    started = time.monotonic()
    pages = pages_of(site)
    assert len(pages) >= 10
    desktop_context = browser.new_context(viewport=DESKTOP)
    desktop_context.add_init_script(OPEN_SHADOW_ROOTS)
    desktop = desktop_context.new_page()
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True).new_page()
    problems: list[str] = []
    impacts: Counter[str] = Counter()
    first_visit_bytes: dict[str, int] = {}
    diagrams = 0
    phases: Counter[str] = Counter()  # seconds spent per kind of check, for the figures

    for page in pages:
        # Given a fresh load of the page on a desktop
        clock = time.monotonic()
        seen = visit(desktop, base_url, page)
        # Then nothing is asked of another host, and nothing fails in the console
        problems += [f"{page}: request to another host {url}" for url in seen.foreign]
        problems += [f"{page}: console error {text}" for text in seen.console_errors]
        first_visit_bytes[page] = sum(
            (site / p.lstrip("/")).stat().st_size for p in seen.local_paths if (site / p.lstrip("/")).is_file()
        )
        # And every Mermaid block is drawn as an SVG
        blocks = (site / page).read_text(encoding="utf-8").count('class="mermaid"')
        if blocks:
            desktop.wait_for_function(
                f"document.querySelectorAll('.mermaid').length === {blocks} && "
                "[...document.querySelectorAll('.mermaid')]"
                ".every(h => h.shadowRoot && h.shadowRoot.querySelector('svg'))",
                timeout=90_000,  # a loaded 2-core CI machine draws the largest diagrams slowly
            )
            diagrams += blocks
        # And the page declares its own language (Chinese at the root, English under en/)
        lang = desktop.evaluate("document.documentElement.lang")
        if lang != language_of(page):
            problems.append(f"{page}: <html lang={lang!r}>, not {language_of(page)!r}")
        phases["load"] += time.monotonic() - clock
        # And axe-core finds no serious or critical violation
        clock = time.monotonic()
        desktop.add_script_tag(path=str(AXE))
        violations = desktop.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0].target}))"
        )
        for v in violations:
            impacts[v["impact"]] += v["nodes"]
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{page}: axe {v['impact']} {v['id']} on {v['nodes']} nodes, e.g. {v['target']}")
        phases["axe"] += time.monotonic() - clock

        # Given the same page narrowed to a 390-pixel phone's viewport
        clock = time.monotonic()
        desktop.set_viewport_size(PHONE)
        width, tables = desktop.evaluate(PHONE_WIDTHS)
        desktop.set_viewport_size(DESKTOP)
        # Then the page as a whole does not scroll sideways, and no table is wider than the screen (rows are cards)
        if width[0] > width[1]:
            problems.append(f"{page}: {width[0]} px wide on a {width[1]} px phone")
        problems += [f"{page}: table {i + 1} is {w} px wide on a {width[1]} px phone" for i, w in tables]
        phases["phone"] += time.monotonic() - clock

    for name, page in (
        ("phone-home.png", "index.html"),
        ("phone-api.png", "reference/api.html"),
        ("phone-api-visits.png", "reference/api/visits.html"),
        ("phone-en-home.png", "en/index.html"),
        ("phone-en-api-visits.png", "en/reference/api/visits.html"),
    ):
        phone.goto(base_url + page, wait_until="load")
        phone.screenshot(path=str(OUT / "screenshots" / name))

    clock = time.monotonic()
    hits = search_hits(desktop, site, base_url, pages, problems)
    phases["search"] += time.monotonic() - clock
    figures = {
        "pages": len(pages),
        "diagrams_drawn": diagrams,
        "bytes_per_first_visit": {
            "median": sorted(first_visit_bytes.values())[len(pages) // 2],
            "max": max(first_visit_bytes.values()),
            "home": first_visit_bytes["index.html"],
        },
        "foreign_requests": sum(1 for p in problems if "request to another host" in p),
        "search_hits": hits,
        "axe_nodes_by_impact": dict(impacts),
        "seconds": round(time.monotonic() - started, 1),
        "seconds_by_check": {k: round(v, 1) for k, v in phases.items()},
    }
    (OUT / "figures.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert not problems, "\n".join(problems)


def language_of(page: str) -> str:
    """Chinese pages sit at the site's root, English ones under en/ (tools/mkdocs_i18n.py)."""
    return "en" if page.startswith("en/") else "zh"


def search_hits(
    tab: Any, site: Path, base_url: str, pages: list[str], problems: list[str]
) -> dict[str, dict[str, int]]:
    """Each query through each language's own search worker and index, from that language's home page: the pages
    found are of that language only and include every page of it whose content contains the word."""
    hits: dict[str, dict[str, int]] = {}
    texts = {page: article_text(site, page).lower() for page in pages}
    for lang, home in (("zh", "index.html"), ("en", "en/index.html")):
        tab.goto(base_url + home, wait_until="load")
        found: dict[str, list[str]] = tab.evaluate(
            """async (queries) => {
                const config = JSON.parse(document.getElementById("__config").textContent);
                // resolved as the theme resolves it (its search index and its results' links)
                const base = new URL(config.base, location.href);
                const index = await (await fetch(new URL("search/search_index.json", base))).json();
                const worker = new Worker(new URL(config.search, location.href));
                const next = () => new Promise(
                    resolve => worker.addEventListener("message", e => resolve(e.data), {once: true}));
                worker.postMessage({type: 0, data: {...index, options: {suggest: false}}});
                await next();
                const out = {};
                for (const q of queries) {
                    worker.postMessage({type: 2, data: q});
                    const reply = await next();
                    out[q] = reply.data.items.map(
                        item => new URL(item[0].location.split("#")[0], base).pathname.slice(1));
                }
                worker.terminate();
                return out;
            }""",
            list(QUERIES),
        )
        hits[lang] = {}
        own = {page: text for page, text in texts.items() if language_of(page) == lang}
        for query in QUERIES:
            pages_found = set(found[query])
            hits[lang][query] = len(pages_found)
            foreign = sorted(pages_found - set(own))
            problems += [f"search {query!r} from {home} finds {p}, another language's page" for p in foreign]
            containing = {page for page, text in own.items() if re.search(rf"(?<![a-z]){query.lower()}", text)}
            problems += [f"search {query!r} misses {page}" for page in sorted(containing - pages_found)]
            if not pages_found and (query in QUERIES_OF[lang]):
                problems.append(f"search {query!r} finds nothing in {lang}")
        # A reader typing 退款 finds the pages that say 退费.
        refunds = {page for page, text in own.items() if "退费" in text}
        problems += [f"search '退款' misses {page}, which says 退费" for page in sorted(refunds - set(found["退款"]))]
    # And the search box itself answers a Chinese word inside a phrase, and an English word with English pages only
    for home, query in (("index.html", "急诊"), ("en/reference/api/visits.html", "refund")):
        tab.goto(base_url + home, wait_until="load")
        box = tab.locator("input[data-md-component=search-query]")
        box.click()
        box.press_sequentially(query)
        box.press("End")  # search answers on keyup; typed Chinese arrives as text input without one
        tab.wait_for_selector(".md-search-result__item", timeout=60_000)
        links = tab.eval_on_selector_all(".md-search-result__item a", "links => links.map(a => a.href)")
        lang = language_of(home)
        problems += [
            f"the search box on {home} links {link}, another language's page"
            for link in links
            if language_of(urlsplit(link).path.lstrip("/")) != lang
        ]
    return hits
