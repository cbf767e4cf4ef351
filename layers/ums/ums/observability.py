"""The one Logger, Metrics and Tracer of the service (service name from POWERTOOLS_SERVICE_NAME)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics(namespace="ServerlessUMS")
tracer = Tracer()
