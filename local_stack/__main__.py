"""`python -m local_stack serve` (make dev) and `python -m local_stack invoke FN EVENT` (make invoke)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from local_stack.template import parse_overrides


def serve(args: argparse.Namespace) -> int:
    from local_stack.runner import LocalStack

    overrides = parse_overrides(args.parameter_overrides or os.environ.get("UMS_PARAMETER_OVERRIDES"))
    local = LocalStack(port=args.port, smtp_port=args.smtp_port, overrides=overrides).start()
    routes = sorted({f"{r.method} {r.path}" for fn in local.functions.values() for r in fn.spec.routes})
    print(f"Serverless UMS local stack on {local.base_url}", flush=True)
    print(f"  AWS emulator (moto): {local.moto.endpoint if local.moto else ''}  region {local.stack.region}")
    smtp_port = local.smtp.port if local.smtp else ""
    print(f"  SMTP capture: 127.0.0.1:{smtp_port}; mail sent so far: {local.base_url}/_local/mail.html")
    print(f"  routes from template.yaml: {', '.join(routes)}")
    print("  state lives in memory and is gone when this stops. Try:")
    body = '{"email":"ann@example.com","password":"correct horse battery"}'
    print(f"    curl -s -X POST {local.base_url}/ums/signup -d '{body}'")
    print("  Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    print("\nStopping the local stack.", flush=True)
    local.stop()
    return 0


def invoke(args: argparse.Namespace) -> int:
    """Runs one function once with an event file, against a fresh emulator, like `sam local invoke`."""
    from local_stack.aws import MotoServer, create_resources, use_endpoint
    from local_stack.functions import prepare_process
    from local_stack.template import Stack

    stack = Stack(parse_overrides(os.environ.get("UMS_PARAMETER_OVERRIDES")))
    event = json.loads(Path(args.event).read_text())
    moto = MotoServer().start()
    try:
        use_endpoint(moto.endpoint, stack.region)
        create_resources(stack)
        functions = prepare_process(stack)
        if args.function not in functions:
            print(f"No function {args.function!r}; there are: {', '.join(functions)}", file=sys.stderr)
            return 2
        result = functions[args.function].invoke(event)
        print(json.dumps(result, indent=2))
    finally:
        moto.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local stack in the foreground")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("UMS_LOCAL_PORT", "3000")))
    serve_parser.add_argument("--smtp-port", type=int, default=int(os.environ.get("UMS_LOCAL_SMTP_PORT", "2525")))
    serve_parser.add_argument("--parameter-overrides", help="Name=Value pairs, as sam deploy takes them")
    serve_parser.set_defaults(run=serve)
    invoke_parser = commands.add_parser("invoke", help="run one function once with an event file")
    invoke_parser.add_argument("function", help="the function's logical id in template.yaml")
    invoke_parser.add_argument("event", help="path of an event JSON file")
    invoke_parser.set_defaults(run=invoke)
    args = parser.parse_args()
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
