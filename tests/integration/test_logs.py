"""Nothing secret reaches the logs: passwords, hashes, access and refresh tokens, signing keys."""

import io
import json
import logging

import boto3
from helpers import PASSWORD, STACK, call, sign_in, sign_up
from ums.config import settings
from ums.observability import logger


def test_a_whole_session_logs_no_secret(aws, capsys):
    # The service's own formatter, so the JSON lines with every extra key are what is checked.
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    sign_up()
    sign_in(password="wrong password here")
    tokens = sign_in().body
    refreshed = call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]}).body
    call("RefreshTokenFunction", {"refresh_token": tokens["refresh_token"]})  # reuse, logged as a warning
    call("GetUserFunction", token=refreshed["access_token"])
    new_password = "a brand new passphrase"
    call(
        "ChangePasswordFunction",
        {"old_password": PASSWORD, "new_password": new_password},
        token=refreshed["access_token"],
    )
    call("RequestResetFunction", {"email": "ann@example.com"})
    from ums.crypto import decrypt_token
    from ums.store.models import EventModel

    [reset] = [e for e in EventModel.scan() if e.event == "AfterPasswordResetRequest"]
    reset_token = decrypt_token(reset.token_ciphertext)
    reset_password = "reset passphrase for ann"
    call("ApplyResetFunction", {"new_password": reset_password}, path_parameters={"token": reset_token})
    fresh = sign_in(password=reset_password).body
    call("DeleteUserFunction", {"password": reset_password}, token=fresh["access_token"])
    call("SignUpFunction", raw_body=b'{"email": "x@y.zz", "password": "' + PASSWORD.encode() + b'", "n": 1e999}')

    logger.removeHandler(handler)
    logs = capsys.readouterr()
    text = captured.getvalue() + logs.out + logs.err
    assert "User signed in" in text and "Password reset applied" in text  # the logs were captured
    key = json.loads(
        boto3.client("secretsmanager", region_name=STACK.region).get_secret_value(SecretId=settings().jwt_secret_name)[
            "SecretString"
        ]
    )["current"]
    secrets = [PASSWORD, new_password, reset_password, reset_token, "wrong password here", "$argon2id$", key]
    secrets += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    secrets += [t.split(".")[-1] for t in (tokens["refresh_token"], refreshed["refresh_token"])]
    for secret in secrets:
        assert secret not in text
