"""Reads `template.yaml` and resolves what the local stack needs: parameters, tables, secrets,
functions with their environment and HTTP routes. There is no second copy of any definition."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
# Resources whose !Ref is a name the template sets itself.
NAME_PROPERTIES = ("AliasName", "Name", "EmailIdentity")
NO_VALUE: Any = object()  # what `!Ref AWS::NoValue` resolves to: removed from its list or object


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (`!Ref X` becomes `{"Ref": "X"}`)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"!{suffix} on an unknown node {node!r}", node.start_mark)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class RouteAuth:
    """A route's JWT authorizer: the API's `Auth.Authorizers.<name>`, with the route's scopes."""

    api: str  # the HttpApi's logical id
    authorizer: str
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template, e.g. /ums/resetpassword/{token}
    auth: RouteAuth | None = None  # None: no JWT authorizer (none, or AWS_IAM)

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))  # greedy {proxy+}
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class JwtAuthorizer:
    """`Auth.Authorizers.<name>` of an HttpApi with a `JwtConfiguration`, resolved."""

    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, str]
    routes: list[Route] = field(default_factory=list)
    # DynamoDB stream event sources: the event's properties, with `Table` the table's logical id.
    stream_sources: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)  # EventBridge rules: {name, bus, pattern}
    schedules: list[str] = field(default_factory=list)  # Schedule events (not run locally: docs/local-stack.md)
    memory_mb: int = 128
    timeout_s: int = 3


class Stack:
    """`template.yaml` with parameter values (defaults, then overrides) resolved."""

    def __init__(self, overrides: dict[str, str] | None = None, name: str = "ums-local") -> None:
        self.name = name
        self.region = "us-east-1"
        self.template: dict[str, Any] = yaml.load(TEMPLATE_PATH.read_text(), Loader=_CfnLoader)  # noqa: S506
        declared = self.template.get("Parameters", {})
        unknown = set(overrides or {}) - set(declared)
        if unknown:
            raise ValueError(f"Unknown parameter(s): {', '.join(sorted(unknown))}")
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(overrides or {})
        # The resources this stack has: a resource whose `Condition` is false is not created.
        self.resources: dict[str, dict[str, Any]] = {
            lid: r
            for lid, r in self.template["Resources"].items()
            if "Condition" not in r or self.condition(r["Condition"])
        }
        # What custom resources answered (`Data`), for `!GetAtt <resource>.<attribute>`.
        self.attributes: dict[str, dict[str, Any]] = {}
        # Properties the local stack gives its custom resources instead of the template's (the
        # issuer: its own base URL, where the template names the deployed API's).
        self.custom_properties: dict[str, Any] = {}

    # --- names of things -------------------------------------------------------------------
    def physical_name(self, logical_id: str) -> str:
        return f"{self.name}-{logical_id}"

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    # --- intrinsic functions -----------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function the template uses evaluated; `AWS::NoValue`
        (and what resolves to it) drops out of lists and objects."""
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, argument)] = value.items()
            if name == "Ref" or name.startswith("Fn::") or (name == "Condition" and isinstance(argument, str)):
                return self._intrinsic(name, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _intrinsic(self, name: str, argument: Any) -> Any:
        if name == "Ref":
            return self._ref(argument)
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._get_att(logical_id, attribute)
        if name == "Fn::Sub":
            text, names = (argument[0], self.resolve(argument[1])) if isinstance(argument, list) else (argument, {})
            return re.sub(
                r"\$\{([^}!][^}]*)\}",
                lambda m: _env_text(names[m.group(1)] if m.group(1) in names else self._sub_name(m.group(1))),
                text,
            )
        if name == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        if name == "Fn::Equals":
            left, right = self.resolve(argument)
            return _env_text(left) == _env_text(right)
        if name == "Fn::Not":
            return not self.resolve(argument)[0]
        if name == "Fn::And":
            return all(self.resolve(argument))
        if name == "Fn::Or":
            return any(self.resolve(argument))
        if name == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(_env_text(v) for v in self.resolve(items))
        if name == "Fn::Split":
            delimiter, text = argument
            return str(self.resolve(text)).split(delimiter)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        raise KeyError(f"template.yaml: {name} is not supported by the local stack")

    def condition(self, name: str) -> bool:
        """The value of one of the template's `Conditions`."""
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise KeyError(f"template.yaml: condition {name} is not defined")
        return bool(self.resolve(conditions[name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            declared = self.template["Parameters"][name]
            value = self.parameters[name]
            return value.split(",") if declared.get("Type") == "CommaDelimitedList" else value
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.resources:
            props = self.resources[name].get("Properties", {})
            for key in NAME_PROPERTIES:
                if key in props:
                    return self.resolve(props[key])
            return self.physical_name(name)  # table name, secret name, queue name …
        raise KeyError(f"template.yaml: !Ref {name} names nothing")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:  # made by the SAM transform, e.g. <Function>Role
            return f"arn:aws:local:{self.region}:{ACCOUNT_ID}:{logical_id}/{attribute}"
        if attribute in self.attributes.get(logical_id, {}):
            return str(self.attributes[logical_id][attribute])
        resource_type = self.resources[logical_id]["Type"]
        properties = self.resources[logical_id].get("Properties", {})
        if resource_type.startswith("Custom::") and attribute in properties:
            # Not run yet (functions' environments are resolved first): this project's custom
            # resources answer with the property of the attribute's name (SigningKey's Issuer).
            return str(self.custom_properties.get(attribute) or self.resolve(properties[attribute]))
        name = self.physical_name(logical_id)
        if resource_type == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"
        if resource_type == "AWS::SQS::Queue":
            return name if attribute == "QueueName" else f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
        return f"arn:aws:local:{self.region}:{ACCOUNT_ID}:{logical_id}/{attribute}"

    def _sub_name(self, name: str) -> Any:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self._get_att(logical_id, attribute)
        return self._ref(name)

    # --- what the local stack builds ---------------------------------------------------------
    def functions(self) -> list[FunctionSpec]:
        """Every function, with Globals applied and its environment, triggers and sizes resolved."""
        globals_ = self.template.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        specs = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            events = props.get("Events", {})
            routes = [
                Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"], self._route_auth(event))
                for event in events.values()
                if event["Type"] == "HttpApi"
            ]
            stream_sources = [
                {**self.resolve(event["Properties"]), "Table": event["Properties"]["Stream"]["Fn::GetAtt"][0]}
                for event in events.values()
                if event["Type"] == "DynamoDB"
            ]
            rules = [
                {
                    "name": self.resolve(event["Properties"].get("RuleName", f"{self.name}-{logical_id}-{event_name}")),
                    "bus": self.resolve(event["Properties"].get("EventBusName", "default")),
                    "pattern": event["Properties"]["Pattern"],
                }
                for event_name, event in events.items()
                if event["Type"] == "EventBridgeRule"
            ]
            schedules = [event_name for event_name, event in events.items() if event["Type"] == "Schedule"]
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    code_uri=ROOT / props["CodeUri"],
                    handler=props.get("Handler", globals_.get("Handler", "app.handler")),
                    environment={k: _env_text(self.resolve(v)) for k, v in env.items()},
                    routes=routes,
                    stream_sources=stream_sources,
                    rules=rules,
                    schedules=schedules,
                    memory_mb=int(self.resolve(props.get("MemorySize", globals_.get("MemorySize", 128)))),
                    timeout_s=int(self.resolve(props.get("Timeout", globals_.get("Timeout", 3)))),
                )
            )
        return specs

    def _route_auth(self, event: dict[str, Any]) -> RouteAuth | None:
        """The JWT authorizer of an HttpApi event: the route's `Auth.Authorizer`, else its API's
        `DefaultAuthorizer`; None for none (`NONE`) and for one without a `JwtConfiguration`
        (AWS_IAM: the local stack signs nothing, so it checks no signature either)."""
        props = event["Properties"]
        api_ref = props.get("ApiId", {"Ref": "ServerlessHttpApi"})  # SAM's implicit API
        api_id = api_ref["Ref"] if isinstance(api_ref, dict) and "Ref" in api_ref else str(api_ref)
        api_auth = self.resources.get(api_id, {}).get("Properties", {}).get("Auth", {})
        route_auth = props.get("Auth", {})
        name = route_auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
        authorizer = api_auth.get("Authorizers", {}).get(name) if isinstance(name, str) else None
        if not isinstance(authorizer, dict) or "JwtConfiguration" not in authorizer:
            return None
        scopes = route_auth.get("AuthorizationScopes", authorizer.get("AuthorizationScopes", []))
        return RouteAuth(api_id, str(name), tuple(str(s) for s in self.resolve(scopes)))

    def jwt_authorizer(self, auth: RouteAuth) -> JwtAuthorizer:
        """The authorizer `auth` names, resolved now (its issuer may be a custom resource's
        attribute, known once the custom resources have run)."""
        spec = self.resources[auth.api]["Properties"]["Auth"]["Authorizers"][auth.authorizer]
        config = self.resolve(spec["JwtConfiguration"])
        audiences = config.get("audience", [])
        return JwtAuthorizer(
            issuer=str(config["issuer"]),
            audiences=tuple(str(a) for a in (audiences if isinstance(audiences, list) else [audiences])),
            identity_source=str(self.resolve(spec.get("IdentitySource", "$request.header.Authorization"))),
        )

    def allowed_origins(self) -> list[str]:
        api = next(iter(self.of_type("AWS::Serverless::HttpApi").values()), {})
        origins = self.resolve(api.get("Properties", {}).get("CorsConfiguration", {}).get("AllowOrigins", []))
        if isinstance(origins, str):
            origins = origins.split(",")
        return [o.strip() for o in origins]


def _env_text(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def parse_overrides(text: str | None) -> dict[str, str]:
    """`Name=Value Name2=Value2` as `sam deploy --parameter-overrides` takes them."""
    overrides = {}
    for item in (text or "").split():
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"Parameter override {item!r} is not Name=Value")
        overrides[name.removeprefix("ParameterKey=")] = value.strip("\"'")
    return overrides


class NoManagedPolicies:
    """The translator looks up AWS managed policy names; the template needs none (offline)."""

    def load(self) -> dict[str, str]:
        return {}


def translated(parameters: Mapping[str, str] | None = None, region: str = "us-east-1") -> dict[str, Any]:
    """template.yaml as CloudFormation gets it: through the SAM transform (offline; cached)."""
    return _translated(tuple(sorted((parameters or {}).items())), region)


@cache
def _translated(parameters: tuple[tuple[str, str], ...], region: str) -> dict[str, Any]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", region)  # the translator asks boto3 for a region
    template: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # what `sam package` turns into S3 locations
            if isinstance(props.get(key), str):
                props[key] = f"s3://bucket/{props[key].strip('/')}"
    result: dict[str, Any] = transform(template, {"AWS::Region": region, **dict(parameters)}, NoManagedPolicies())
    return result
