"""The AWS SDK of the Lambda runtime (layers/ums/ums/runtime-sdk.txt, the one record of its
version): the tests run with it, and a deploy reports the runtime's own, warning when older."""

from __future__ import annotations

from importlib.metadata import version

import botocore
import pytest
from helpers import STACK
from ums import runtime_sdk

from local_stack.template import Stack


def test_the_tests_and_the_local_stack_run_the_recorded_sdk() -> None:
    recorded = runtime_sdk.tested()
    assert set(recorded) >= {"boto3", "botocore", "s3transfer"}
    assert {name: version(name) for name in recorded} == recorded


def test_the_deploy_reports_the_runtime_sdk_as_a_stack_output(aws: None) -> None:
    reported = STACK.attributes["SigningKey"]["RuntimeSdk"]  # what the custom resource answered
    assert (
        reported
        == f"boto3 {version('boto3')}, botocore {version('botocore')} (tested with botocore {version('botocore')})"
    )
    outputs = Stack().template["Outputs"]
    assert outputs["RuntimeSdk"]["Value"] == {"Fn::GetAtt": ["SigningKey", "RuntimeSdk"]}
    # A new layer version runs the resource again, so the report is of the code deployed.
    assert Stack().template["Resources"]["SigningKey"]["Properties"]["Layer"] == {"Ref": "UmsLayer"}


def test_an_older_runtime_sdk_is_a_warning_in_the_output_and_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(botocore, "__version__", "1.35.99")
    reported = runtime_sdk.report()
    assert reported.startswith("boto3 ") and "botocore 1.35.99: OLDER than the tested botocore" in reported
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "The runtime's botocore is older than the tested one")
    ]


@pytest.mark.parametrize("newer", ["1.43.128", "1.44.0", "2.0.0"])
def test_a_newer_runtime_sdk_is_fine(monkeypatch: pytest.MonkeyPatch, newer: str) -> None:
    monkeypatch.setattr(botocore, "__version__", newer)
    assert "OLDER" not in runtime_sdk.report()
