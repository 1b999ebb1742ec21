"""MkDocs hook: a site that works with no host but its own, and a search that finds what readers in China type.

- Vendored assets: Mermaid (for the diagrams), the iframe-worker shim (search from a folder opened as file://)
  and Swagger UI (the API explorer) are copied from the project's npm packages (package.json) into the built
  site at build time, so no page asks a CDN for anything. A missing package stops the build with the command
  that installs it.
- Synonyms: a page that uses one word of a group (退费) is also found by the others (退款) through the search
  index's tags field, which search weighs but pages do not show.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from tools.mkdocs_i18n import DEFAULT, GENERATED, add_file, language

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"

# Site path → file inside node_modules. The site refers to them under assets/vendor/.
VENDORED = {
    "assets/vendor/mermaid.min.js": "mermaid/dist/mermaid.min.js",
    "assets/vendor/iframe-worker-shim.js": "iframe-worker/shim/index.js",
    "assets/vendor/swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "assets/vendor/swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "assets/vendor/swagger-ui/swagger-ui-standalone-preset.js": "swagger-ui-dist/swagger-ui-standalone-preset.js",
    "assets/vendor/swagger-ui/LICENSE": "swagger-ui-dist/LICENSE",
    "assets/vendor/mermaid.LICENSE": "mermaid/LICENSE",
}

# Words readers type for the same thing the pages may call by another name. Each group: every word finds the
# pages that use any word of the group.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("退费", "退款"),
    ("对账", "清算", "结算"),
    ("逾期", "欠费", "拖欠"),
    ("签名", "验签"),
    ("额度", "授信"),
    ("急诊", "急救"),
    ("知情同意", "同意书"),
    ("refund", "chargeback"),
    ("reconciliation", "settlement"),
    ("overdue", "arrears", "late payment"),
)


class VendorMissing(RuntimeError):
    """An asset the site serves itself is not installed."""


def vendored(site_path: str) -> Path:
    source = NODE_MODULES / VENDORED[site_path]
    if not source.is_file():
        raise VendorMissing(f"{source} is missing: run `make install` (npm install) before building the docs")
    return source


EXPLORER_TEXT = {
    "zh": """# 接口调试

在本页浏览 [openapi.json](openapi.json) 的每个操作、参数和数据结构（Swagger UI，由本站自带，不访问任何外部网站）。
签名操作需要 HMAC 签名，浏览器无法代签，因此本页不发送请求；调用请用[请求签名](../authentication.md)中的
Python 客户端。
""",
    "en": """# API explorer

Browse every operation, parameter and schema of [openapi.json](openapi.json) (Swagger UI, served by this
site; nothing is loaded from another host). Signed operations need an HMAC signature a browser cannot make,
so this page sends no request; call the API with the Python client from
[request signing](../authentication.md).
""",
}
EXPLORER_UI = """
<div id="swagger-ui" lang="en"></div>
<link rel="stylesheet" href="{up}assets/vendor/swagger-ui/swagger-ui.css">
<script src="{up}assets/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script>
  SwaggerUIBundle({{
    url: "openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    supportedSubmitMethods: [],
    deepLinking: false,
    defaultModelsExpandDepth: 0,
  }});
</script>
"""


def explorer(lang: str) -> str:
    """The explorer page of a language; the vendored assets sit at the site's root, above the English tree."""
    up = "../" if lang == DEFAULT else "../../"
    return EXPLORER_TEXT[lang] + EXPLORER_UI.format(up=up)


@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    # Shared by both languages: written once, at the site's root.
    for site_path in VENDORED:
        if files.get_file_from_path(site_path) is None:
            files.append(File.generated(config, site_path, abs_src_path=str(vendored(site_path))))
    add_file(files, config, "reference/explorer.md", explorer(language(config)))
    return files


def synonym_tags(markdown: str) -> list[str]:
    """The words of every group the page uses at least one word of, that the page itself does not contain."""
    lowered = markdown.lower()
    tags: list[str] = []
    for group in SYNONYMS:
        if any(word.lower() in lowered for word in group):
            tags += [word for word in group if word.lower() not in lowered and word not in tags]
    return tags


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    tags = synonym_tags(markdown)
    if tags:
        page.meta["tags"] = [*(page.meta.get("tags") or []), *tags]
    return markdown


MERMAID = "assets/vendor/mermaid.min.js"
SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
SEARCH_LABELS = {"zh": "搜索本站", "en": "Search this site"}


def _lang(output: str) -> str:
    return "en" if '<html lang="en"' in output else "zh"


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    # Mermaid (2.7 MB) is loaded only by the pages that draw a diagram, before Material's script looks for it.
    if 'class="mermaid"' in output:
        up = "../" * page.file.url.count("/")
        bundle = output.index('<script src="' + up + "assets/javascripts/bundle.")
        output = f'{output[:bundle]}<script src="{up}{MERMAID}"></script>\n{output[bundle:]}'
    # The search dialog gets an accessible name.
    if SEARCH_DIALOG not in output:
        raise RuntimeError(f"{page.file.src_uri}: the theme's search dialog changed; update tools/mkdocs_offline.py")
    label = SEARCH_LABELS[_lang(output)]
    return output.replace(SEARCH_DIALOG, SEARCH_DIALOG[:-1] + f' aria-label="{label}">')
