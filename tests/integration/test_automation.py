"""The automation function: stream batches to mail, exactly once; failures and retries."""

import json

import pytest
from botocore.stub import Stubber
from helpers import FUNCTIONS, STACK, call
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from ums.automation import mail as mail_module
from ums.store.models import EventModel


def sent_mail() -> list:
    return ses_backends[DEFAULT_ACCOUNT_ID][STACK.region].sent_messages


def configure(subject: str = "Welcome {{ user.first_name }}", event: str = "AfterSignUp") -> dict:
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
    return automation.body


def stream_record(event: EventModel, sequence: str) -> dict:
    image = {k: v for k, v in event.serialize().items()}
    return {
        "eventID": f"e-{sequence}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"NewImage": image, "SequenceNumber": sequence, "StreamViewType": "NEW_IMAGE"},
    }


def signed_up_events() -> list[EventModel]:
    return [e for e in EventModel.scan() if e.event == "AfterSignUp"]


def automate(records: list[dict]) -> dict:
    return FUNCTIONS["AutomationFunction"].invoke({"Records": records})


def test_a_redelivered_batch_sends_one_mail(aws):
    configure()
    call("SignUpFunction", {"email": "a@example.com", "password": "correct horse battery staple", "first_name": "Ann"})
    [event] = signed_up_events()
    records = [stream_record(event, "100")]
    assert automate(records) == {"batchItemFailures": []}
    assert automate(records) == {"batchItemFailures": []}
    assert len(sent_mail()) == 1
    assert sent_mail()[0].subject == "Welcome Ann"
    assert EventModel.get(event.id).status == "sent"


def test_a_poison_record_does_not_block_the_records_after_it(aws):
    configure()
    call("SignUpFunction", {"email": "b@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    poison = stream_record(event, "200")
    poison["dynamodb"]["NewImage"] = {"id": {"S": "broken"}}  # not an event
    answer = automate([poison, stream_record(event, "201")])
    assert answer == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert len(sent_mail()) == 1


def test_modify_and_remove_records_are_ignored(aws):
    configure()
    call("SignUpFunction", {"email": "c@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    for name in ("MODIFY", "REMOVE"):
        record = stream_record(event, "300")
        record["eventName"] = name
        assert automate([record]) == {"batchItemFailures": []}
    assert sent_mail() == []


def test_ses_throttling_is_retried(aws, monkeypatch):
    configure()
    call("SignUpFunction", {"email": "d@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    monkeypatch.setattr(mail_module, "BACKOFF_SECONDS", 0)
    with Stubber(mail_module.ses_client()) as ses:
        ses.add_client_error("send_email", "TooManyRequestsException", http_status_code=429)
        ses.add_client_error("send_email", "TooManyRequestsException", http_status_code=429)
        ses.add_response("send_email", {"MessageId": "m-1"})
        assert automate([stream_record(event, "400")]) == {"batchItemFailures": []}
        ses.assert_no_pending_responses()
    assert EventModel.get(event.id).status == "sent"


def test_message_rejected_is_not_retried_and_marks_the_event_failed(aws):
    configure()
    call("SignUpFunction", {"email": "e@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    with Stubber(mail_module.ses_client()) as ses:
        ses.add_client_error(
            "send_email", "MessageRejected", service_message="Address blacklisted.", http_status_code=400
        )
        assert automate([stream_record(event, "500")]) == {"batchItemFailures": []}
        ses.assert_no_pending_responses()  # exactly one attempt
    stored = EventModel.get(event.id)
    assert stored.status == "failed" and "MessageRejected" in stored.failure


def test_throttling_that_persists_fails_the_record_for_a_later_retry(aws, monkeypatch):
    configure()
    call("SignUpFunction", {"email": "f@example.com", "password": "correct horse battery staple"})
    [event] = signed_up_events()
    monkeypatch.setattr(mail_module, "BACKOFF_SECONDS", 0)
    with Stubber(mail_module.ses_client()) as ses:
        for _ in range(mail_module.RETRIES + 1):
            ses.add_client_error("send_email", "TooManyRequestsException", http_status_code=429)
        assert automate([stream_record(event, "600")]) == {"batchItemFailures": [{"itemIdentifier": "600"}]}
    assert automate([stream_record(event, "600")]) == {"batchItemFailures": []}  # the retry sends it
    assert len(sent_mail()) == 1


def test_a_subject_value_with_cr_lf_cannot_add_a_header(aws):
    configure(subject="Hello {{ user.first_name }}")
    name = "Ann\r\nBcc: attacker@example.com"
    call("SignUpFunction", {"email": "g@example.com", "password": "correct horse battery staple", "first_name": name})
    [event] = signed_up_events()
    automate([stream_record(event, "700")])
    [mail] = sent_mail()
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert mail.destinations == {"ToAddresses": ["g@example.com"]}


def test_events_are_published_to_the_bus_without_secrets(aws):
    import boto3

    configure(event="AfterPasswordResetRequest")
    call("SignUpFunction", {"email": "h@example.com", "password": "correct horse battery staple"})
    assert call("RequestResetFunction", {"email": "h@example.com"}).status == 202
    [event] = [e for e in EventModel.scan() if e.event == "AfterPasswordResetRequest"]
    sqs = boto3.client("sqs", region_name=STACK.region)
    events = boto3.client("events", region_name=STACK.region)
    queue = sqs.create_queue(QueueName="spy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = STACK.resolve({"Ref": "UmsEventBus"})
    events.put_rule(Name="spy", EventBusName=bus, EventPattern=json.dumps({"source": ["ums"]}))
    events.put_targets(Rule="spy", EventBusName=bus, Targets=[{"Id": "spy", "Arn": arn}])
    automate([stream_record(event, "800")])
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    published = json.loads(message["Body"])
    assert published["detail-type"] == "UMS: password reset request"
    assert published["detail"]["routing_key"] == "user.password_reset.transactional"
    assert published["detail"]["user"]["email"] == "h@example.com"
    assert "token" not in message["Body"].lower() and "ciphertext" not in message["Body"].lower()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"activity": "user_login"}, "activity"),
        ({"email": "not-an-email"}, "email"),
        ({"email_tags": "x"}, "email_tags"),
        ({"activity_timestamp": "yesterday"}, "activity_timestamp"),
    ],
)
def test_invalid_quicksilver_messages_are_dropped_not_retried(aws, change, reason):
    message = json.loads(
        (
            FUNCTIONS["ResetMessageFunction"].spec.code_uri.parents[1] / "events" / "reset_message.json"
        ).read_text()
    )
    message["detail"].update(change)
    answer = FUNCTIONS["ResetMessageFunction"].invoke(message)
    assert answer["status"] == "dropped" and reason in answer["reason"]
