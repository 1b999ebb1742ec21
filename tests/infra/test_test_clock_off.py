"""The packaged production template cannot enable the test clock, and a function started as it says refuses it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import of_type


def _environments(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: function["Properties"].get("Environment", {}).get("Variables", {})
        for name, function in of_type(template, "AWS::Serverless::Function").items()
    }


def test_no_function_of_the_template_can_have_the_test_clock(template: dict[str, Any]) -> None:
    environments = _environments(template)
    assert environments, "the template has functions"
    for name, variables in environments.items():
        # no variable names it, and none is fed by a parameter a deployer could set to turn it on
        assert "TF_TEST_CLOCK" not in variables, name
        # nor may webhooks go to loopback or over plain http (the local stack's TF_WEBHOOK_LOOPBACK)
        assert "TF_WEBHOOK_LOOPBACK" not in variables, name
        for variable, value in variables.items():
            refs = json.dumps(value)
            assert "Clock" not in refs and "TEST" not in refs.upper().replace("TF_", ""), (name, variable)
    assert not [p for p in template.get("Parameters", {}) if "clock" in p.lower()]


def test_a_function_started_with_the_template_settings_refuses_the_test_clock(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from treatfirst.config import Settings
    from treatfirst.domain.errors import ClockDisabled
    from treatfirst.services.testclock import advance

    # Given the API function's environment exactly as the template sets it (references become plain text)
    for variable, value in _environments(template)["APIHandler"].items():
        monkeypatch.setenv(variable, value if isinstance(value, str) else "from-the-template")
    monkeypatch.delenv("TF_TEST_CLOCK", raising=False)
    # Then its settings have no test clock
    assert Settings.from_env().test_clock is False

    # And the service refuses to move a clock that is not the test clock, before touching the store
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the store was used: {name}")

    class Ctx:
        store = Untouchable()
        clock = type("System", (), {"now": staticmethod(lambda: None)})()

    with pytest.raises(ClockDisabled):
        advance(Ctx(), None, seconds=86400, reason="x", jobs={})  # type: ignore[arg-type]


def test_a_sandbox_template_has_the_test_clock_and_deploys_only_as_a_sandbox() -> None:
    from tools import package as packager

    # Given the template composed for a sandbox, and the production one
    sandbox = packager.compose("xiamen", "350200", sandbox=True)
    production = packager.compose("xiamen", "350200")
    specs = packager.load_function_specs()
    # Then every function of the sandbox has the test clock, and its stage can only be "sandbox" (every name
    # the stack creates says so); the production composition has neither
    for function in specs:
        assert sandbox["Resources"][function]["Properties"]["Environment"]["Variables"]["TF_TEST_CLOCK"] == "1"
        assert "TF_TEST_CLOCK" not in production["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert sandbox["Parameters"]["Stage"]["AllowedValues"] == ["sandbox"]
    assert "sandbox" not in production["Parameters"]["Stage"]["AllowedValues"]
    assert sandbox["Description"].startswith("SANDBOX")
    # And the sandbox API may do what each scheduled function does (the test clock runs them in its process)
    api = packager.sandbox_specs(specs)["APIHandler"]
    order = list(packager.ACCESS)
    for function, spec in specs.items():
        for table, access in spec.get("tables", {}).items():
            wanted = access if isinstance(access, str) else access["access"]
            granted = api["tables"][table] if isinstance(api["tables"][table], str) else api["tables"][table]["access"]
            assert order.index(granted) >= order.index(wanted), (function, table)
        assert set(spec.get("kms", [])) <= set(api.get("kms", [])), function
        assert set(spec.get("publish", [])) <= set(api.get("publish", [])), function
        assert set(spec.get("read_objects", [])) <= set(api.get("read_objects", [])), function
        assert set(spec.get("write_objects", [])) <= set(api.get("write_objects", [])), function
        if spec.get("sign_with"):
            assert api.get("sign_with") == spec["sign_with"], function

    # And the composed sandbox API gets the signing key's permission and its id (an exporting city's export,
    # run by the clock in the API's process, signs its manifest with it)
    def api_variables(template: dict[str, Any]) -> dict[str, Any]:
        return template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]  # type: ignore[no-any-return]

    assert "TF_EXPORT_SIGNING_KEY_ID" in api_variables(sandbox)
    assert "TF_EXPORT_SIGNING_KEY_ID" not in api_variables(production)
    # while the production API keeps exactly its own permissions
    assert specs["APIHandler"] == packager.load_function_specs()["APIHandler"]
