"""The export page (Chinese and English), generated from the code that writes the deliveries: the field catalogue
(treatfirst.domain.export.FIELDS), the file names, the manifest (built by domain.export.manifest from a sample
window), the signing algorithm, the platform's operations and which cities export (the example policies)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from treatfirst.domain import export as x
from treatfirst.domain.policy import example_policy
from treatfirst.services import export as service

from tools.mkdocs_i18n import GENERATED, add_file, language

PAGE = "export.md"
CITIES = ("lianyungang", "xiamen")
SAMPLE_DAY = date(2026, 11, 25)

T: dict[str, dict[str, str]] = {
    "zh": {
        "title": "失信名单报送（信用平台）",
        "intro": (
            "平台把失信名单的**变化**每天报送给城市公共信用信息平台：每个业务日一次交付，包含窗口 `[from, to)` 内"
            "新列入（ADD）和移出（REMOVE）的记录。只有城市政策**启用报送并写明结构化的法律依据**（文件号、标题、条文）时"
            "才会报送；政策要求征得信用报送同意时，只报送同意在案的人。其他情况下名单只在平台内部使用，"
            "不写出任何文件。完整的身份证号只出现在交付文件中（依法报送的唯一场合），不出现在日志、接口或其他文件里。"
        ),
        "cities": "各城市",
        "city_row": "| 城市 | 是否报送 | 依据 | 须征得同意 |",
        "yes": "报送",
        "no": "不报送（名单仅在平台内部）",
        "fields": "字段（按文件中的列顺序）",
        "field_head": "| 字段 | 类型 | 含义 |",
        "files": "每次交付的文件",
        "files_text": (
            "文件位于导出桶的 `{prefix}/<业务日期>/` 下（本地在 `.local/<城市>/exports/` 下），按下列顺序写出，"
            "清单 `manifest.json` **最后**写出，是交付完成的标志："
        ),
        "file_rows": (
            "| `delta-00001.jsonl` … | JSON Lines，每行一条记录，UTF-8 |\n"
            "| `delta-00001.csv` … | 同样的记录，CSV，UTF-8 带 BOM（中文 Excel 可直接打开），CRLF 换行 |\n"
            "| `SHA256SUMS` | 数据文件的 SHA-256，`sha256sum -c` 可直接核对 |\n"
            "| `signing-key.pem` | 签名公钥（请与城市另行提供的公钥指纹核对） |\n"
            "| `manifest.json.sig.b64` | 清单签名（Base64） |\n"
            "| `manifest.json` | 清单：窗口、序号、条数、每个文件的 SHA-256、上一份清单的 SHA-256、签名信息 |"
        ),
        "parts": (
            "数据文件每个不超过 {mib} MiB，超过时分为 `delta-00002.*` 等多个部分（CSV 每部分都有 BOM 和表头），"
            "每个部分都能通过接口一次下载。某天没有变化时也会交付（空文件），以证明“没有变化”。"
        ),
        "manifest": "清单",
        "manifest_text": (
            "清单是排序键、无空格的 UTF-8 JSON，末尾一个换行；相同内容总是相同字节。`previous_manifest_sha256` "
            "是前一个业务日 `manifest.json` 的 SHA-256，`sequence` 每天加一：缺少任何一天的交付都会被发现。"
            "同一窗口重新运行得到完全相同的字节（文件中没有运行时间，只有窗口）。示例（窗口 {day}）："
        ),
        "verify": "如何核验一次交付",
        "verify_text": "在交付目录中用通用工具核验（签名算法 RSASSA-PKCS1-v1_5 SHA-256）：",
        "verify_after": (
            "`sha256sum -c` 核对每个数据文件；`openssl dgst` 输出 `Verified OK` 说明清单由该密钥签署。"
            "再核对 `manifest.json` 中的 `previous_manifest_sha256` 等于前一天清单的 SHA-256。"
            "`signing-key.pem` 的指纹（DER 的 SHA-256，即清单中的 `public_key_sha256`）应与城市提供的一致；"
            "在 AWS 上公钥也可用 `aws kms get-public-key --key-id <ExportSigningKeyArn>` 取得。"
            "运营方用 `treatfirst-admin export verify [--pin <指纹>]` 核验导出桶中的全部交付及其链。"
        ),
        "api": "接口（仅信用平台的密钥可用）",
        "api_text": (
            "信用平台使用自己的调用方类型 `credit_platform`（`treatfirst-admin register credit_platform <编号> <名称>`"
            " 签发密钥），只能列出、读取、下载和确认交付，访问其他任何接口都得到 403："
        ),
        "ack": "确认",
        "ack_text": (
            "核验通过后，信用平台调用确认接口并写明它核验的 `manifest_sha256`（可附说明）。哈希不符返回 "
            "`EXPORT_MANIFEST_MISMATCH`（409），不做任何更改；重复确认返回第一次的结果。每次确认都记入审计"
            "（谁、何时、哪份清单）。"
        ),
        "rules": "报送规则",
        "rules_list": (
            "- 每个业务日（城市时区，政策的日切时间）结束后交付一次，按日期顺序，不跳过；停机后下次运行补齐"
            "（每次最多 {max} 天）。首次运行从最近一个已结束的业务日开始：启用报送之前的变化不追溯报送。\n"
            "- 新列入：政策要求同意时，只报送信用报送同意（或告知）在案的人。\n"
            "- 移出：只报送其列入曾经报送过的记录（平台为每条已报送的列入保存标记），"
            "信用平台不会收到它从未收到过的人的信息。\n"
            "- 已报送的列入在重新运行时仍然报送（以标记为准，而非当时的同意状态），所以重新运行得到相同字节；"
            "若重新运行会改变已交付的清单，运行会失败而不是覆盖。"
        ),
    },
    "en": {
        "title": "Blacklist export (credit platform)",
        "intro": (
            "The platform reports the **changes** of its blacklist to the city's public credit platform every day: one "
            "delivery per business day, holding the records added (ADD) and removed (REMOVE) in the window "
            "`[from, to)`. It reports only where the city policy **enables export and names a structured legal "
            "basis** (document, title, text); where the policy requires consent, only persons whose credit-reporting "
            "consent is on record are reported. Otherwise the list stays inside the platform and no file is written. "
            "The full ID number appears only in the delivered files (its one lawful place), never in logs, the API "
            "or other files."
        ),
        "cities": "Cities",
        "city_row": "| City | Exports | Legal basis | Consent required |",
        "yes": "exports",
        "no": "does not export (the list stays inside the platform)",
        "fields": "Fields (in the files' column order)",
        "field_head": "| Field | Type | Meaning |",
        "files": "Files of each delivery",
        "files_text": (
            "The files are under `{prefix}/<business date>/` in the exports bucket (locally under "
            "`.local/<city>/exports/`), written in this order; `manifest.json` is written **last** and marks the "
            "delivery complete:"
        ),
        "file_rows": (
            "| `delta-00001.jsonl` … | JSON Lines, one record per line, UTF-8 |\n"
            "| `delta-00001.csv` … | the same records as CSV, UTF-8 with a byte-order mark (Chinese Excel opens it), "
            "CRLF line ends |\n"
            "| `SHA256SUMS` | SHA-256 of the data files, ready for `sha256sum -c` |\n"
            "| `signing-key.pem` | the signing public key (check its fingerprint against the one the city gave you) |\n"
            "| `manifest.json.sig.b64` | the manifest's signature (Base64) |\n"
            "| `manifest.json` | the manifest: window, sequence, counts, each file's SHA-256, the previous "
            "manifest's SHA-256, the signature's details |"
        ),
        "parts": (
            "Each data file is at most {mib} MiB; a larger delivery has parts `delta-00002.*` and so on (each CSV part "
            "with its BOM and header), so every part downloads through the API in one answer. A day without "
            "changes is delivered too (empty files): it states that nothing changed."
        ),
        "manifest": "Manifest",
        "manifest_text": (
            "The manifest is UTF-8 JSON with sorted keys, no spaces and one final newline: equal content, equal "
            "bytes. `previous_manifest_sha256` is the SHA-256 of the previous business day's `manifest.json` and "
            "`sequence` grows by one a day: a missing delivery is detected. Re-running a window gives identical "
            "bytes (no run time is written, only the window). Example (window {day}):"
        ),
        "verify": "Verifying a delivery",
        "verify_text": "In the delivery's folder, with standard tools (signature: RSASSA-PKCS1-v1_5 with SHA-256):",
        "verify_after": (
            "`sha256sum -c` checks every data file; `openssl dgst` printing `Verified OK` means the manifest was "
            "signed with that key. Then check that `previous_manifest_sha256` equals the SHA-256 of the previous "
            "day's manifest. The fingerprint of `signing-key.pem` (SHA-256 of its DER, the manifest's "
            "`public_key_sha256`) must be the one the city gave you; on AWS the public key is also "
            "`aws kms get-public-key --key-id <ExportSigningKeyArn>`. Operators check every delivery in the bucket "
            "and the chain with `treatfirst-admin export verify [--pin <fingerprint>]`."
        ),
        "api": "API (the credit platform's key only)",
        "api_text": (
            "The credit platform is a caller kind of its own, `credit_platform` (its key is made with "
            "`treatfirst-admin register credit_platform <id> <name>`): it lists, reads, downloads and acknowledges "
            "deliveries and gets 403 anywhere else:"
        ),
        "ack": "Acknowledgement",
        "ack_text": (
            "After verifying, the credit platform acknowledges the delivery, naming the `manifest_sha256` it checked "
            "(and a note, if it likes). Another hash is `EXPORT_MANIFEST_MISMATCH` (409) and changes nothing; a "
            "second acknowledgement returns the first. Every acknowledgement is audited (who, when, which manifest)."
        ),
        "rules": "Rules",
        "rules_list": (
            "- One delivery after each business day closes (the city's time zone, the policy's cut-off), in date "
            "order, without a gap; after an outage the next run catches up (at most {max} days a run). The first "
            "run starts with the last closed day: changes from before export was enabled are not reported.\n"
            "- Additions: where the policy requires consent, only persons whose credit-reporting consent (or notice) "
            "is on record.\n"
            "- Removals: only of records whose addition was delivered (the platform keeps a marker for each), so the "
            "credit platform never hears of a person it was not given.\n"
            "- A delivered addition stays in a re-run of its window (the marker decides, not today's consent), so a "
            "re-run gives the same bytes; a re-run that would change a delivered manifest fails instead of "
            "overwriting it."
        ),
    },
}

TYPES = {"zh": {"string": "文本", "integer": "整数", "date": "日期", "time": "时间"}, "en": {}}


def sample_manifest() -> dict[str, Any]:
    """A manifest as domain.export.manifest builds it, for a sample window of Lianyungang."""
    policy = example_policy("lianyungang")
    files = [
        x.PartFile(
            "delta-00001.jsonl", "jsonl", 2, 1068, "0772b5aa621233201e620e3bcd1f59877ac19bf9777dd0ba6b8fcaf91dad968c"
        ),
        x.PartFile(
            "delta-00001.csv", "csv", 2, 753, "10b158521ee9ecbf97d76a98fd7288780918b07d9bfa5a845aa1ee1dade65747"
        ),
    ]
    key = b"-----BEGIN PUBLIC KEY-----\n(the city's key)\n-----END PUBLIC KEY-----\n"
    signing = x.Signing("arn:aws-cn:kms:cn-north-1:111122223333:key/…", "231a172d…", key)
    return x.manifest(
        city_code=policy.city_code,
        source=service.source_of(policy),
        from_date=SAMPLE_DAY,
        sequence=42,
        previous_sha256="8e2a4c6b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a",
        counts={"added": 1, "removed": 1},
        files=files,
        extra_files={x.CHECKSUMS: x.checksums(files), x.PUBLIC_KEY: key},
        legal_basis=service.export_basis(policy) or {},
        policy={"version": policy.version, "sha256": policy.sha256},
        signing=signing,
    )


def op_href(operation_id: str) -> str:
    return f"reference/api/credit-platform.md#{operation_id}"


@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    add_file(files, config, PAGE, page(language(config)))
    return files


def page(lang: str) -> str:
    t = T[lang]
    lines = [f"# {t['title']}", "", t["intro"], "", f"## {t['cities']}", "", t["city_row"], "|---|---|---|---|"]
    for name in CITIES:
        p = example_policy(name)
        basis = service.export_basis(p)
        city = p.city_name if lang == "zh" else p.city_name_en
        shown = f"{basis['document']}《{basis['title']}》" if basis else "—"
        required = (
            ("是" if lang == "zh" else "yes") if service.consent_required(p) else ("否" if lang == "zh" else "no")
        )
        lines.append(f"| {city} | {t['yes'] if basis else t['no']} | {shown} | {required if basis else '—'} |")
    lines += ["", f"## {t['fields']}", "", t["field_head"], "|---|---|---|"]
    for f in x.FIELDS:
        meaning = f.zh if lang == "zh" else f.en
        lines.append(f"| `{f.name}` | {TYPES[lang].get(f.type, f.type)} | {meaning} |")
    lines += ["", f"## {t['files']}", "", t["files_text"].format(prefix=x.PREFIX), ""]
    lines += ["| | |", "|---|---|", t["file_rows"], "", t["parts"].format(mib=x.PART_BYTES // 2**20), ""]
    lines += [f"## {t['manifest']}", "", t["manifest_text"].format(day=SAMPLE_DAY.isoformat()), ""]
    lines += ["```json", json.dumps(sample_manifest(), ensure_ascii=False, indent=2, sort_keys=True), "```", ""]
    lines += [f"## {t['verify']}", "", t["verify_text"], "", "```sh"]
    lines += [
        "sha256sum -c SHA256SUMS",
        f"openssl base64 -d -A -in {x.SIGNATURE} -out manifest.json.sig",
        f"openssl dgst -sha256 -verify {x.PUBLIC_KEY} -signature manifest.json.sig {x.MANIFEST}",
        f"openssl pkey -pubin -in {x.PUBLIC_KEY} -outform DER | sha256sum   # = public_key_sha256",
        "```",
        "",
        t["verify_after"],
        "",
        f"## {t['api']}",
        "",
        t["api_text"],
        "",
    ]
    from treatfirst import openapi

    from tools.mkdocs_hooks import SUMMARY_ZH

    for op in openapi.OPERATIONS:
        if op.tag == "Credit platform":
            summary = SUMMARY_ZH.get(op.operation_id, op.summary) if lang == "zh" else op.summary
            lines.append(f"- [`{op.method.upper()} {op.path}`]({op_href(op.operation_id)}): {summary}")
    lines += [
        "",
        f"## {t['ack']}",
        "",
        t["ack_text"],
        "",
        f"## {t['rules']}",
        "",
        t["rules_list"].format(max=service.MAX_WINDOWS),
        "",
    ]
    return "\n".join(lines)
