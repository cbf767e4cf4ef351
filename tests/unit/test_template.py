"""template.yaml is the source of truth: check what the local stack and tests rely on."""

from local_stack.template import Stack, parse_overrides


def test_every_function_is_python313_arm64_with_the_layer_and_a_handler_file() -> None:
    stack = Stack()
    globals_ = stack.template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    for spec in stack.functions():
        assert (spec.code_uri / "app.py").is_file(), spec.logical_id
        assert spec.routes or spec.stream_sources or spec.rules or spec.schedules, f"{spec.logical_id} has no trigger"


def test_layer_is_built_for_python313_arm64() -> None:
    layer = Stack().resources["UmsLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}


def test_routes_are_the_api_contract() -> None:
    routes = {(r.method, r.path) for spec in Stack().functions() for r in spec.routes}
    assert routes == {
        ("POST", "/ums/signup"),
        ("POST", "/auth"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/revoke"),
        ("GET", "/pages/reset"),
        ("POST", "/pages/reset"),
        ("GET", "/pages/verify"),
        ("POST", "/pages/verify"),
        ("GET", "/ums/user"),
        ("PATCH", "/ums/user"),
        ("POST", "/ums/user/email"),
        ("DELETE", "/ums/user"),
        ("POST", "/ums/changepassword"),
        ("POST", "/ums/resetpassword"),
        ("POST", "/ums/resetpassword/{token}"),
        ("POST", "/ums/verify"),
        ("POST", "/ums/verify/{token}"),
        ("POST", "/user/password"),
        ("POST", "/notifications/customers/reset"),
        ("PATCH", "/accounts/customers/{customerId}"),
        ("ANY", "/management/{proxy+}"),
        ("GET", "/ums/users"),
        ("POST", "/ums/users"),
        ("PATCH", "/ums/users"),
        ("DELETE", "/ums/users"),
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/openapi.json"),
        ("POST", "/management/users/import"),
        ("GET", "/management/users/export"),
        ("POST", "/management/users/reindex"),
        ("GET", "/oauth/init"),
        ("POST", "/oauth/auth"),
    }


def test_parameters_resolve_into_the_environment() -> None:
    env = Stack(parse_overrides("PreventUserExistenceErrors=true ProjectId=acme")).functions()[0].environment
    assert env["PREVENT_USER_EXISTENCE_ERRORS"] == "true"
    assert env["UMS_PROJECT_ID"] == "acme"
    assert env["USERS_TABLE"] == "ums-local-UsersTable"


def test_unknown_override_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="Unknown parameter"):
        Stack({"NoSuchThing": "1"})


def test_tokens_table_has_ttl_and_users_table_its_indexes() -> None:
    resources = Stack().resources
    assert resources["TokensTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"

    def indexes(stack: Stack) -> set[str]:
        properties = stack.resolve(stack.resources["UsersTable"]["Properties"])
        return {index["IndexName"] for index in properties["GlobalSecondaryIndexes"]}

    assert indexes(Stack()) == {"by_email", "by_mobile", "by_created_at", "by_email_order"}
    # A stack upgraded from before the order indexes deploys once without the second.
    assert indexes(Stack({"EmailOrderIndex": "false"})) == {"by_email", "by_mobile", "by_created_at"}


# The functions that hash passwords with Argon2id (sign-up, sign-in, delete, change, both applies).
HASHING_FUNCTIONS = {
    "SignUpFunction",
    "SignInFunction",
    "DeleteUserFunction",
    "ChangePasswordFunction",
    "ChangeEmailFunction",
    "UsersCreateFunction",
    "ApplyResetFunction",
    "ResetPageFunction",
    "CustomerResetApplyFunction",
}


def test_the_handler_is_set_once_in_globals() -> None:
    stack = Stack()
    assert stack.template["Globals"]["Function"]["Handler"] == "app.handler"
    for logical_id, resource in stack.of_type("AWS::Serverless::Function").items():
        assert "Handler" not in resource["Properties"], logical_id
    assert {spec.handler for spec in stack.functions()} == {"app.handler"}


def test_the_hashing_memory_size_is_one_parameter_the_local_stack_resolves() -> None:
    stack = Stack()
    sized = {lid: r["Properties"].get("MemorySize") for lid, r in stack.of_type("AWS::Serverless::Function").items()}
    assert {lid for lid, size in sized.items() if size == {"Ref": "PasswordHashingMemorySize"}} == HASHING_FUNCTIONS
    # The others: Globals, or a measured size of their own (docs/bench.md), never above Globals'.
    others = {size for lid, size in sized.items() if lid not in HASHING_FUNCTIONS and size is not None}
    ceiling = stack.template["Globals"]["Function"]["MemorySize"]
    assert all(isinstance(size, int) and 128 <= size <= ceiling for size in others)
    assert stack.parameters["PasswordHashingMemorySize"] == "1024"
    memory = {spec.logical_id: spec.memory_mb for spec in Stack({"PasswordHashingMemorySize": "2048"}).functions()}
    assert {memory[lid] for lid in HASHING_FUNCTIONS} == {2048}
    assert memory["GetUserFunction"] == stack.template["Globals"]["Function"]["MemorySize"]
