import base64
import json
from typing import Any

import pytest
from ums.errors import BadRequest, PayloadTooLarge, Unauthorized
from ums.http import MAX_BODY_BYTES, Request, Response, api_handler
from ums.inputs import MAX_JSON_DEPTH, load_json, reject_unknown_fields, required_string

from local_stack.functions import LambdaContext

CONTEXT = LambdaContext("Test", 128, "arn:aws:lambda:us-east-1:123456789012:function:Test", "req", 1e12)


def event(body: str | None = None, *, b64: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "rawPath": "/x",
        "headers": headers or {},
        "requestContext": {"requestId": "rid-1", "http": {"method": "POST"}},
    }
    if body is not None:
        e["body"] = body
        e["isBase64Encoded"] = b64
    return e


def test_body_is_json_whatever_the_content_type_says() -> None:
    request = Request.from_event(event('{"a": 1}', headers={"Content-Type": "text/plain;charset=UTF-8"}), "rid")
    assert request.json_object() == {"a": 1}


def test_base64_body_is_decoded() -> None:
    request = Request.from_event(event(base64.b64encode(b'{"a": "\xc3\xa9"}').decode(), b64=True), "rid")
    assert request.json_object() == {"a": "é"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "must be a JSON object"),
        ("[1, 2]", "must be a JSON object"),
        ('"text"', "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"a": NaN}', "not valid JSON"),
        ('{"a": Infinity}', "not valid JSON"),
    ],
)
def test_bad_bodies_are_400_with_a_reason(body: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        Request.from_event(event(body), "rid").json_object()


def test_invalid_utf8_is_400() -> None:
    raw = base64.b64encode(b'{"a": "\xff\xfe"}').decode()
    with pytest.raises(BadRequest, match="UTF-8"):
        Request.from_event(event(raw, b64=True), "rid").json_object()


def test_body_over_64_kib_is_413() -> None:
    with pytest.raises(PayloadTooLarge):
        Request.from_event(event("x" * (MAX_BODY_BYTES + 1)), "rid")


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer   "])
def test_missing_or_malformed_bearer_is_401(header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    with pytest.raises(Unauthorized):
        Request.from_event(event(headers=headers), "rid").bearer_token()


def test_bearer_token_is_read_case_insensitively() -> None:
    request = Request.from_event(event(headers={"AUTHORIZATION": "bearer abc.def"}), "rid")
    assert request.bearer_token() == "abc.def"


def test_required_string_names_the_field() -> None:
    with pytest.raises(BadRequest, match="'email' is required"):
        required_string({}, "email")
    with pytest.raises(BadRequest, match="'email' must be a string"):
        required_string({"email": 3}, "email")


def test_unknown_fields_are_named() -> None:
    with pytest.raises(BadRequest, match="Unknown field\\(s\\): extra"):
        reject_unknown_fields({"password": "x", "extra": 1}, {"password"})


def test_errors_are_a_jexia_array_with_the_request_id_and_safe_headers() -> None:
    @api_handler
    def route(request: Request) -> Response:
        raise BadRequest("nope")

    result = route(event("{}"), CONTEXT)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == [{"message": "nope", "request_id": "rid-1"}]
    assert result["headers"]["Cache-Control"] == "no-store"
    assert result["headers"]["Referrer-Policy"] == "no-referrer"


def test_unexpected_errors_are_500_without_details() -> None:
    @api_handler
    def route(request: Request) -> Response:
        raise RuntimeError("secret internals")

    result = route(event("{}"), CONTEXT)
    assert result["statusCode"] == 500
    assert "secret internals" not in result["body"]
    assert json.loads(result["body"])[0]["request_id"] == "rid-1"


def test_request_id_is_a_fresh_uuid_without_api_gateway() -> None:
    @api_handler
    def route(request: Request) -> Response:
        raise BadRequest("nope")

    e = event("{}")
    del e["requestContext"]["requestId"]
    body = json.loads(route(e, CONTEXT)["body"])
    assert len(body[0]["request_id"]) == 36


def nested(depth: int) -> str:
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_json_nested_deeper_than_the_limit_is_400_before_parsing() -> None:
    assert Request.from_event(event(nested(MAX_JSON_DEPTH)), "rid").json_object()["a"] is not None
    for body in (nested(MAX_JSON_DEPTH + 1), "[" * 20000 + "]" * 20000, "{" * 20000):
        with pytest.raises(BadRequest, match=f"deeper than {MAX_JSON_DEPTH} levels"):
            Request.from_event(event(body), "rid").json_object()


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    body = json.dumps({"a": "[" * 100, "b": '\\"[{' * 50, "c": "\\" * 10 + "{" * 40})
    assert Request.from_event(event(body), "rid").json_object()["a"] == "[" * 100


def test_a_deeply_nested_body_is_a_400_answer_not_a_500() -> None:
    @api_handler
    def route(request: Request) -> Response:
        return Response(200, request.json_object())

    result = route(event("[" * 20000 + "]" * 20000), CONTEXT)
    assert result["statusCode"] == 400 and "deeper than" in result["body"]


def test_load_json_names_what_it_parses() -> None:
    with pytest.raises(BadRequest, match="Parameter 'cond' nests"):
        load_json("[" * 40, "Parameter 'cond'")
    with pytest.raises(BadRequest, match="Parameter 'cond' is not valid JSON"):
        load_json("[1,", "Parameter 'cond'")
    with pytest.raises(BadRequest, match="Parameter 'cond': field '\\[0\\]' is not valid Unicode"):
        load_json('["\\ud800"]', "Parameter 'cond'")
    assert load_json('[{"field": "x"}, "=", 1]', "Parameter 'cond'") == [{"field": "x"}, "=", 1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"email": "\\ud800@example.com"}', "'email'"),
        ('{"password": "abc\\udfff"}', "'password'"),
        ('{"address": {"city": ["ok", "\\udc00"]}}', "'address.city[1]'"),
        ('{"\\ud800": 1}', "'\\ud800'"),
        ('{"a": {"b\\ud800": 1}}', "'a.b\\ud800'"),
    ],
)
def test_unpaired_surrogates_are_400_naming_the_field(body: str, field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        Request.from_event(event(body), "rid").json_object()
    assert field in refused.value.message and "not valid Unicode" in refused.value.message
    refused.value.message.encode("utf-8")  # the message itself is safe to send and log


def test_paired_surrogate_escapes_are_one_valid_character() -> None:
    assert Request.from_event(event('{"a": "\\ud83d\\ude00"}'), "rid").json_object() == {"a": "\U0001f600"}


@pytest.mark.parametrize(
    ("part", "kind"),
    [
        ({"pathParameters": {"token": "abc\ud800"}}, "Path parameter 'token'"),
        ({"rawQueryString": "cond=\udc00"}, "Query parameter 'cond'"),
        ({"headers": {"X-Api-Key": "k:\ud800"}}, "Header 'x-api-key'"),
    ],
)
def test_unpaired_surrogates_outside_the_body_are_400(part: dict[str, Any], kind: str) -> None:
    with pytest.raises(BadRequest, match=kind):
        Request.from_event({**event("{}"), **part}, "rid")
