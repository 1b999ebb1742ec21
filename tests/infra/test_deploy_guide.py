"""The deploy guide (both languages) names what the template really has: parameters, outputs, alarms, files."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.conftest import ROOT, of_type

PAGES = {"en": ROOT / "site" / "en" / "deploy.md", "zh": ROOT / "site" / "zh" / "deploy.md"}
TABLE_ROW = {"en": "`…-<table>-throttles`", "zh": "`…-<表名>-throttles`"}


@pytest.mark.parametrize("language", sorted(PAGES))
def test_the_guide_matches_the_template(language: str, template: dict[str, Any]) -> None:
    page = PAGES[language].read_text(encoding="utf-8")
    prefix = "treatfirst-${CityCode}-${Stage}-"

    # every parameter is explained in the parameter table
    for name in template["Parameters"]:
        assert f"| `{name}` |" in page, name

    # every output the guide names exists
    for output in re.findall(r"`([A-Z][A-Za-z]+)`", page):
        if output.endswith(("URL", "Prefix", "Arn", "Name", "Target")) and output not in template["Parameters"]:
            assert output in template["Outputs"], output

    # every alarm has its row; the per-table alarms share one
    tables = {
        t["Properties"]["TableName"]["Fn::Sub"][len(prefix) :]
        for t in of_type(template, "AWS::DynamoDB::Table").values()
    }
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        suffix = alarm["Properties"]["AlarmName"]["Fn::Sub"][len(prefix) :]
        if suffix.removesuffix("-throttles") in tables:
            assert f"| {TABLE_ROW[language]} |" in page, suffix
        else:
            assert f"| `…-{suffix}` |" in page, suffix

    # the files it points at exist, and the commands use the packager's outputs and the CLI's file format
    for path in re.findall(r"`((?:infra|functions|tools)/[^`*<…]+?)`", page):
        assert (ROOT / path).exists(), path
    assert "build/package/sam.json" in page and "--parameter-overrides file://infra/params/" in page
    for function in of_type(template, "AWS::Serverless::Function").values():
        name = function["Properties"]["FunctionName"]["Fn::Sub"].replace("${CityCode}", "320700")
        if name.endswith("-collect"):
            assert name.replace("${Stage}", "prod") in page
