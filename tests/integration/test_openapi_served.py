"""GET /openapi.json: the contract, its server the API's URL. WellKnownFunction may not touch
DynamoDB at all (its IAM policy, enforced here): answering proves no DynamoDB call is made."""

from __future__ import annotations

from helpers import call
from ums import signing_keys
from ums.openapi import document


def test_the_stack_serves_its_contract_with_its_own_url_cacheable(aws: None) -> None:
    answer = call("WellKnownFunction", path="/openapi.json", method="GET")
    assert answer.status == 200
    issuer = signing_keys.key_set().issuer
    assert answer.body == document(issuer)
    assert answer.body["servers"] == [{"url": issuer}]
    assert answer.headers["Cache-Control"] == "public, max-age=3600"
