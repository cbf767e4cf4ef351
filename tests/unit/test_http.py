import base64
import json

import pytest
from ums.errors import BadRequest, PayloadTooLarge, Unauthorized
from ums.http import MAX_BODY_BYTES, Request, Response, api_handler, reject_unknown_fields, required_string

from local_stack.functions import LambdaContext

CONTEXT = LambdaContext("Test", 128, "arn:aws:lambda:us-east-1:123456789012:function:Test", "req", 1e12)


def event(body: str | None = None, *, b64: bool = False, headers: dict[str, str] | None = None) -> dict:
    e = {
        "rawPath": "/x",
        "headers": headers or {},
        "requestContext": {"requestId": "rid-1", "http": {"method": "POST"}},
    }
    if body is not None:
        e["body"] = body
        e["isBase64Encoded"] = b64
    return e


def test_body_is_json_whatever_the_content_type_says():
    request = Request.from_event(event('{"a": 1}', headers={"Content-Type": "text/plain;charset=UTF-8"}), "rid")
    assert request.json_object() == {"a": 1}


def test_base64_body_is_decoded():
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
def test_bad_bodies_are_400_with_a_reason(body, message):
    with pytest.raises(BadRequest, match=message):
        Request.from_event(event(body), "rid").json_object()


def test_invalid_utf8_is_400():
    raw = base64.b64encode(b'{"a": "\xff\xfe"}').decode()
    with pytest.raises(BadRequest, match="UTF-8"):
        Request.from_event(event(raw, b64=True), "rid").json_object()


def test_body_over_64_kib_is_413():
    with pytest.raises(PayloadTooLarge):
        Request.from_event(event("x" * (MAX_BODY_BYTES + 1)), "rid")


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer   "])
def test_missing_or_malformed_bearer_is_401(header):
    headers = {"Authorization": header} if header else {}
    with pytest.raises(Unauthorized):
        Request.from_event(event(headers=headers), "rid").bearer_token()


def test_bearer_token_is_read_case_insensitively():
    request = Request.from_event(event(headers={"AUTHORIZATION": "bearer abc.def"}), "rid")
    assert request.bearer_token() == "abc.def"


def test_required_string_names_the_field():
    with pytest.raises(BadRequest, match="'email' is required"):
        required_string({}, "email")
    with pytest.raises(BadRequest, match="'email' must be a string"):
        required_string({"email": 3}, "email")


def test_unknown_fields_are_named():
    with pytest.raises(BadRequest, match="Unknown field\\(s\\): extra"):
        reject_unknown_fields({"password": "x", "extra": 1}, {"password"})


def test_errors_are_a_jexia_array_with_the_request_id_and_safe_headers():
    @api_handler
    def route(request: Request) -> Response:
        raise BadRequest("nope")

    result = route(event("{}"), CONTEXT)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == [{"message": "nope", "request_id": "rid-1"}]
    assert result["headers"]["Cache-Control"] == "no-store"
    assert result["headers"]["Referrer-Policy"] == "no-referrer"


def test_unexpected_errors_are_500_without_details():
    @api_handler
    def route(request: Request) -> Response:
        raise RuntimeError("secret internals")

    result = route(event("{}"), CONTEXT)
    assert result["statusCode"] == 500
    assert "secret internals" not in result["body"]
    assert json.loads(result["body"])[0]["request_id"] == "rid-1"


def test_request_id_is_a_fresh_uuid_without_api_gateway():
    @api_handler
    def route(request: Request) -> Response:
        raise BadRequest("nope")

    e = event("{}")
    del e["requestContext"]["requestId"]
    body = json.loads(route(e, CONTEXT)["body"])
    assert len(body[0]["request_id"]) == 36
