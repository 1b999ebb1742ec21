"""MkDocs hook: the privacy pages (personal information protection, the impact assessment worksheet, the compliance
map), generated in the build's language from the data inventory, the city policies and the compliance registry
(tools/privacy_pages.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "functions"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from treatfirst.domain.policy import example_policy  # noqa: E402

from tools.mkdocs_i18n import GENERATED, add_file, language  # noqa: E402
from tools.privacy_pages import compliance_page, pia_page, privacy_page  # noqa: E402

CITIES = ("lianyungang", "xiamen")


@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    lang = language(config)
    policies = {name: example_policy(name) for name in CITIES}
    add_file(files, config, "privacy/index.md", privacy_page(policies, lang))
    add_file(files, config, "privacy/pia.md", pia_page(policies, lang))
    add_file(files, config, "privacy/compliance.md", compliance_page(lang))
    return files
