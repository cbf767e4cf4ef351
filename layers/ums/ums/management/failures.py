"""/management/failures: the automation's failure queue (stream batches the automation function
gave up on), each with its events; `POST /management/failures/redrive` sends them again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ums import failure_queue

router = APIGatewayHttpRouter()


@router.get("/")
def list_failures() -> list[dict[str, Any]]:
    return failure_queue.listed()


@router.post("/redrive")
def redrive_failures() -> dict[str, Any]:
    return failure_queue.redrive()
