"""The automation function: stream batches to mail, exactly once; failures and retries."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.retries.standard import ExponentialBackoff
from helpers import FUNCTIONS, STACK, call, manage
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from ums.automation import mail as mail_module
from ums.store.models import EventModel


def sent_mail() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID][STACK.region].sent_messages


def configure(subject: str = "Welcome {{ user.first_name }}", event: str = "AfterSignUp") -> dict[str, Any]:
    integration = call(
        "ManagementFunction",
        {"name": "ses", "type": "ses", "sender": "no-reply@example.com"},
        path="/management/integrations",
        path_parameters={"proxy": "integrations"},
    ).body
    automation = call(
        "ManagementFunction",
        {"name": "a", "event": event, "integration_id": integration["id"], "subject": subject, "body": "<p>hi</p>"},
        path="/management/automations",
        path_parameters={"proxy": "automations"},
    )
    assert automation.status == 201, automation.body
    assert isinstance(automation.body, dict)
    return automation.body


def stream_record(event: EventModel, sequence: str) -> dict[str, Any]:
    image = {k: v for k, v in event.serialize().items()}
    return {
        "eventID": f"e-{sequence}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"NewImage": image, "SequenceNumber": sequence, "StreamViewType": "NEW_IMAGE"},
    }


def signed_up_events() -> list[EventModel]:
    return [e for e in EventModel.scan() if e.event == "AfterSignUp"]


def automate(records: list[dict[str, Any]]) -> dict[str, Any]:
    answer: dict[str, Any] = FUNCTIONS["AutomationFunction"].invoke({"Records": records})
    return answer


def test_a_redelivered_batch_sends_one_mail(aws: None) -> None:
    configure()
    call("SignUpFunction", {"email": "a@example.com", "password": "correct horse battery staple", "first_name": "Ann"})
    [event] = signed_up_events()
    records = [stream_record(event, "100")]
    assert automate(records) == {"batchItemFailures": []}
    assert automate(records) == {"batchItemFailures": []}
    assert len(sent_mail()) == 1
    assert sent_mail()[0].subject == "Welcome Ann"
    assert EventModel.get(event.id).status == "sent"


def test_a_poison_record_does_not_block_the_records_after_it(aws: None) -> None:
    configure()
    call("SignUpFunction", {"email": "b@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    poison = stream_record(event, "200")
    poison["dynamodb"]["NewImage"] = {"id": {"S": "broken"}}  # not an event
    answer = automate([poison, stream_record(event, "201")])
    assert answer == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert len(sent_mail()) == 1


def test_status_updates_and_removals_are_ignored(aws: None) -> None:
    """The function's own status updates (MODIFY to sent, failed or skipped) and TTL removals mail
    nothing; a MODIFY back to pending is an operator's redrive (test_default_mails.py)."""
    configure()
    call("SignUpFunction", {"email": "c@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    for name, status in (("MODIFY", "sent"), ("MODIFY", "failed"), ("MODIFY", "skipped"), ("REMOVE", "pending")):
        record = stream_record(event, "300")
        record["eventName"] = name
        record["dynamodb"]["NewImage"]["status"] = {"S": status}
        assert automate([record]) == {"batchItemFailures": []}
    assert sent_mail() == []


class SesAnswers:
    """Answers SES SendEmail with the given errors first, on the client's real retry path: a
    `before-send` handler returns the HTTP response, so botocore's retry handler sees each one
    (Stubber would skip it). When the errors run out, the call reaches moto. (moto's own handler
    still sees every call and records a message for each: what the client gets is ours, so the
    tests count calls and outcomes, not moto's list.)"""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        self.calls += 1
        if not self.errors:
            return None
        status, code = self.errors.pop(0)
        body = json.dumps({"message": f"{code} for the test"}).encode()
        return AWSResponse(request.url, status, HTTPHeaders.from_dict({"x-amzn-ErrorType": code}), _RawBody(body))


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


Answers = Callable[[list[tuple[int, str]]], SesAnswers]  # what the `ses_answers` fixture gives


@pytest.fixture
def ses_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Answers]:
    """`ses_answers([(429, "TooManyRequestsException")])` → the SesAnswers counting the calls."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)  # no sleeping in tests
    events = mail_module.ses_client().meta.events
    registered: list[SesAnswers] = []

    def install(errors: list[tuple[int, str]]) -> SesAnswers:
        answers = SesAnswers(errors)
        events.register("before-send.sesv2.SendEmail", answers)
        registered.append(answers)
        return answers

    yield install
    for answers in registered:
        events.unregister("before-send.sesv2.SendEmail", answers)


def test_ses_throttling_is_retried_by_the_client_alone(aws: None, ses_answers: Answers) -> None:
    configure()
    call("SignUpFunction", {"email": "d@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    ses = ses_answers([(429, "TooManyRequestsException"), (429, "TooManyRequestsException")])
    assert automate([stream_record(event, "400")]) == {"batchItemFailures": []}
    assert ses.calls == 3  # two throttled, then sent
    assert EventModel.get(event.id).status == "sent"


def test_message_rejected_is_not_retried_and_marks_the_event_failed(aws: None, ses_answers: Answers) -> None:
    configure()
    call("SignUpFunction", {"email": "e@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    ses = ses_answers([(400, "MessageRejected")])
    assert automate([stream_record(event, "500")]) == {"batchItemFailures": []}
    assert ses.calls == 1  # exactly one attempt
    stored = EventModel.get(event.id)
    assert stored.status == "failed" and "MessageRejected" in stored.failure


def test_persistent_throttling_costs_a_bounded_number_of_calls_then_the_stream_retries(
    aws: None, ses_answers: Answers
) -> None:
    configure()
    call("SignUpFunction", {"email": "f@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    ses = ses_answers([(429, "TooManyRequestsException")] * 100)
    assert automate([stream_record(event, "600")]) == {"batchItemFailures": [{"itemIdentifier": "600"}]}
    assert ses.calls == mail_module.SES_MAX_ATTEMPTS == 3  # one retry layer in the function, not 4 times 4
    ses.errors.clear()
    assert automate([stream_record(event, "600")]) == {"batchItemFailures": []}  # the stream's retry sends it
    assert ses.calls == 4
    assert EventModel.get(event.id).status == "sent"


def test_a_subject_value_with_cr_lf_cannot_add_a_header(aws: None) -> None:
    configure(subject="Hello {{ user.first_name }}")
    name = "Ann\r\nBcc: attacker@example.com"
    call("SignUpFunction", {"email": "g@example.com", "password": "correct horse battery staple", "first_name": name})
    [event] = signed_up_events()
    automate([stream_record(event, "700")])
    [mail] = sent_mail()
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert mail.destinations == {"ToAddresses": ["g@example.com"]}


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\x0b"])
def test_a_line_separator_in_a_name_does_not_break_the_mail(aws: None, separator: str) -> None:
    configure(subject="Hello {{ user.first_name }}")
    name = f"Ann{separator}Bcc: attacker@example.com"
    call("SignUpFunction", {"email": "s@example.com", "password": "correct horse battery staple", "first_name": name})
    [event] = signed_up_events()
    assert automate([stream_record(event, "710")]) == {"batchItemFailures": []}
    [mail] = sent_mail()
    assert mail.subject == "Hello Ann Bcc: attacker@example.com"
    assert EventModel.get(event.id).status == "sent"


def test_an_event_gone_before_its_status_is_recorded_is_not_recreated(aws: None) -> None:
    configure()
    call("SignUpFunction", {"email": "gone@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    record = stream_record(event, "720")
    event.delete()  # expired (TTL) or removed by an operator between the stream and the update
    assert automate([record]) == {"batchItemFailures": []}
    assert len(sent_mail()) == 1
    assert [e.id for e in EventModel.scan()] == []  # no `{id, status}` stub


def test_an_event_missing_optional_fields_is_published_all_the_same(aws: None) -> None:
    from ums.automation.pipeline import publish_event

    received = bus_spy()
    sparse = EventModel.from_raw_data({"id": {"S": "sparse"}, "event": {"S": "AfterSignUp"}})
    publish_event(sparse)  # no user, application, name, routing key or time: published with nulls
    unknown = EventModel.from_raw_data({"id": {"S": "x"}, "event": {"S": "SomethingElse"}, "user": {"M": {}}})
    publish_event(unknown)
    published = sorted((json.loads(body) for body in received()), key=lambda m: m["detail"]["event_id"])
    assert [m["detail-type"] for m in published] == ["UMS: user signed up", "SomethingElse"]
    assert published[0]["detail"]["user"] == {"id": None, "email": None, "country": None, "language": None}
    assert published[0]["detail"]["routing_key"] == "user.sign_up.transactional"


def test_a_sparse_stream_image_is_mailed_and_published_without_error(aws: None) -> None:
    configure(subject="Welcome {{ user.first_name }}{{ application.name }}")
    received = bus_spy()
    image = {"id": {"S": "sparse-1"}, "event": {"S": "AfterSignUp"}, "user": {"M": {"email": {"S": "p@example.com"}}}}
    record = {"eventID": "e-730", "eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "730"}}
    assert automate([record]) == {"batchItemFailures": []}
    [mail] = sent_mail()
    assert mail.subject == "Welcome" and mail.destinations == {"ToAddresses": ["p@example.com"]}
    [body] = received()
    detail = json.loads(body)["detail"]
    assert detail["event_id"] == "sparse-1" and detail["application"] is None and detail["occurred_at"] is None
    assert detail["user"] == {"id": None, "email": "p@example.com", "country": None, "language": None}
    assert [e.id for e in EventModel.scan()] == []  # not in the table: its status is skipped, no stub


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format_map(user) }}",
        "{{ lipsum }}",
    ],
)
def test_templates_that_can_only_fail_are_refused_at_save(aws: None, body: str) -> None:
    integration = manage("integrations", {"name": "ses", "type": "ses", "sender": "no-reply@example.com"}).body
    automation = {"name": "a", "event": "AfterSignUp", "integration_id": integration["id"], "subject": "Hi"}
    automation["body"] = body
    refused = manage("automations", automation)
    assert refused.status == 400 and "Template 'body'" in refused.message, refused.body
    template = manage("templates", {"name": "t", "subject": body, "html": "<p>hi</p>"})
    assert template.status == 400 and "Template 'subject'" in template.message, template.body


def bus_spy() -> Callable[[], list[str]]:
    """A queue behind a rule on the stack's bus that takes everything `source: ums`; returns a
    function that reads what arrived."""
    import boto3

    sqs = boto3.client("sqs", region_name=STACK.region)
    events = boto3.client("events", region_name=STACK.region)
    queue = sqs.create_queue(QueueName="spy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = STACK.resolve({"Ref": "UmsEventBus"})
    events.put_rule(Name="spy", EventBusName=bus, EventPattern=json.dumps({"source": ["ums"]}))
    events.put_targets(Rule="spy", EventBusName=bus, Targets=[{"Id": "spy", "Arn": arn}])
    return lambda: [m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]


def test_events_are_published_to_the_bus_without_secrets(aws: None) -> None:
    configure(event="AfterPasswordResetRequest")
    call("SignUpFunction", {"email": "h@example.com", "password": "correct horse battery staple"})
    assert call("RequestResetFunction", {"email": "h@example.com"}).status == 202
    [event] = [e for e in EventModel.scan() if e.event == "AfterPasswordResetRequest"]
    received = bus_spy()
    automate([stream_record(event, "800")])
    [body] = received()
    published = json.loads(body)
    assert published["detail-type"] == "UMS: password reset request"
    assert published["detail"]["routing_key"] == "user.password_reset.transactional"
    assert published["detail"]["user"]["email"] == "h@example.com"
    assert "token" not in body.lower() and "ciphertext" not in body.lower()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"activity": "user_login"}, "activity"),
        ({"email": "not-an-email"}, "email"),
        ({"email_tags": "x"}, "email_tags"),
        ({"activity_timestamp": "yesterday"}, "activity_timestamp"),
    ],
)
def test_invalid_quicksilver_messages_are_dropped_not_retried(aws: None, change: dict[str, Any], reason: str) -> None:
    message = json.loads(
        (FUNCTIONS["ResetMessageFunction"].spec.code_uri.parents[1] / "events" / "reset_message.json").read_text()
    )
    message["detail"].update(change)
    answer = FUNCTIONS["ResetMessageFunction"].invoke(message)
    assert answer["status"] == "dropped" and reason in answer["reason"]
