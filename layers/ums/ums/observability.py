"""The one Logger and Metrics of the service (service name from POWERTOOLS_SERVICE_NAME).

No Powertools Tracer: Lambda's active tracing (template Globals) records each invocation, and
the X-Ray SDK the Tracer needs would add about 100 ms to every cold start (bench measure 1).
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics(namespace="ServerlessUMS")
