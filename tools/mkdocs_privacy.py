"""MkDocs hook: the privacy pages (personal information protection, the impact assessment worksheet, the compliance
map), generated from the data inventory, the city policies and the compliance registry (tools/privacy_pages.py).

Each page holds the Chinese text first, then the English; the site's per-language layout can split them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "functions"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from treatfirst.domain.policy import example_policy  # noqa: E402

from tools.privacy_pages import compliance_page, pia_page, privacy_page  # noqa: E402

CITIES = ("lianyungang", "xiamen")
PAGES = {
    "privacy/index.md": privacy_page,
    "privacy/pia.md": pia_page,
}


def _both(zh: str, en: str) -> str:
    """The Chinese page, then the English one with its headings one level down (one page title)."""
    lowered = "\n".join(("#" + line) if line.startswith("#") else line for line in en.splitlines())
    return zh + "\n---\n\n" + lowered + "\n"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    policies = {name: example_policy(name) for name in CITIES}
    for path, build in PAGES.items():
        files.append(File.generated(config, path, content=_both(build(policies, "zh"), build(policies, "en"))))
    files.append(
        File.generated(config, "privacy/compliance.md", content=_both(compliance_page("zh"), compliance_page("en")))
    )
    return files
