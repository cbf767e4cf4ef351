"""template.yaml deploys as written: the SAM transform (which `sam validate --lint` does not run)
accepts it, and cfn-lint finds no error in the CloudFormation it produces, circular dependencies
between the API and its functions included (E3004)."""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from local_stack.template import translated as template_translated

REGION = "us-east-1"


def translated(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    return template_translated(parameters, REGION)


def test_the_sam_transform_accepts_the_template() -> None:
    resources = translated()["Resources"]
    assert resources["HttpApi"]["Type"] == "AWS::ApiGatewayV2::Api"
    assert resources["SigningKey"]["Type"] == "Custom::SigningKey"


def test_the_example_api_has_a_jwt_authorizer_trusting_this_stacks_tokens() -> None:
    resources = translated({"ExampleApi": "true"})["Resources"]
    api = resources["ExampleHttpApi"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api" and api["Condition"] == "HasExampleApi"
    scheme = api["Properties"]["Body"]["components"]["securitySchemes"]["UmsJwtAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt" and authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {
        "issuer": {"Fn::GetAtt": ["SigningKey", "Issuer"]},
        "audience": [{"Ref": "ProjectId"}],
    }
    get = api["Properties"]["Body"]["paths"]["/hello"]["Fn::If"][1]["get"]["Fn::If"][1]
    assert get["security"] == [{"UmsJwtAuthorizer": ["ums:user"]}]
    assert {r["Condition"] for lid, r in resources.items() if "Hello" in lid} == {"HasExampleApi"}


# ExampleApi=true adds an API whose JWT authorizer's issuer is SigningKey's (not a cycle).
@pytest.mark.parametrize("example_api", ["false", "true"])
def test_cfn_lint_finds_no_error_in_the_transformed_template(example_api: str) -> None:
    import json

    matches = lint(json.dumps(translated({"ExampleApi": example_api})), config=ManualArgs(regions=[REGION]))
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


@pytest.mark.parametrize(("days", "state"), [("0", "DISABLED"), ("1", "ENABLED"), ("30", "ENABLED")])
def test_the_rotation_schedule_is_valid_for_every_setting(days: str, state: str) -> None:
    from local_stack.template import Stack

    rule = translated()["Resources"]["SigningKeysFunctionRotation"]["Properties"]
    stack = Stack({"SigningKeyRotationDays": days})
    assert stack.resolve(rule["State"]) == state
    expression = stack.resolve(rule["ScheduleExpression"])
    assert expression in ("rate(1 day)", f"rate({days} days)") and expression != "rate(1 days)"
