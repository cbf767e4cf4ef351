"""`python -m local_stack serve` (make dev) and `python -m local_stack invoke FN EVENT` (make invoke)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import socket
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

from local_stack.template import parse_overrides

# Each port of the local stack: the variable that sets it and its default (0 takes a free port).
PORTS = {"UMS_LOCAL_PORT": 3000, "UMS_LOCAL_SMTP_PORT": 2525, "UMS_LOCAL_AWS_PORT": 0, "UMS_CONSOLE_PORT": 3001}


class Refused(Exception):
    """A problem the user fixes (a port in use, a missing file): one line on stderr, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def port_from_environment(name: str, default: int) -> int:
    """The port in the environment variable `name` (`default` when unset); Refused when it is not one."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise Refused(f"{name}={text!r} is not a port number (0-65535; 0 takes a free port)", exit_code=2)
    return int(text)


def check_ports(ports: dict[str, int]) -> None:
    """Refused, naming the port and its variable, when one is taken on 127.0.0.1: before anything
    starts, so the answer is immediate (a taken SMTP port otherwise shows only after a timeout)."""
    seen: dict[int, str] = {}
    for variable, port in ports.items():
        if port == 0:
            continue
        if port in seen:
            raise Refused(f"{seen[port]} and {variable} are both {port}: give them different ports")
        seen[port] = variable
        with socket.socket() as probe:
            # As the servers themselves bind: a port left in TIME_WAIT is free, a listening one is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as err:
                problem = "is already in use" if err.errno == errno.EADDRINUSE else f"cannot be opened ({err.strerror})"
                raise Refused(
                    f"Port {port} on 127.0.0.1 {problem}: stop what uses it, or choose another port "
                    f"with {variable} (e.g. {variable}=0 make dev takes a free one)"
                ) from None


def serve(args: argparse.Namespace) -> int:
    from local_stack.runner import LocalStack, aws_environment

    ports = {variable: port_from_environment(variable, default) for variable, default in PORTS.items()}
    if args.port is not None:
        ports["UMS_LOCAL_PORT"] = args.port
    if args.smtp_port is not None:
        ports["UMS_LOCAL_SMTP_PORT"] = args.smtp_port
    check_ports(ports)
    overrides = parse_overrides(args.parameter_overrides or os.environ.get("UMS_PARAMETER_OVERRIDES"))
    local = LocalStack(
        port=ports["UMS_LOCAL_PORT"],
        smtp_port=ports["UMS_LOCAL_SMTP_PORT"],
        aws_port=ports["UMS_LOCAL_AWS_PORT"],
        overrides=overrides,
    ).start()
    assert local.moto is not None and local.smtp is not None
    from ums_cli.client import Client
    from ums_cli.console import make_server

    console = make_server(Client(local.base_url), ports["UMS_CONSOLE_PORT"])  # `ums console`, for this stack
    threading.Thread(target=console.serve_forever, name="console", daemon=True).start()
    print(f"Serverless UMS local stack on {local.base_url}", flush=True)
    print(f"  Console (ums console; UMS_CONSOLE_PORT): http://127.0.0.1:{console.server_address[1]}")
    aws_env = aws_environment(local.moto.endpoint, local.stack.region)
    print("  AWS emulator (moto; UMS_LOCAL_AWS_PORT fixes its port): put this before an aws or boto3 command")
    print(f"    {aws_env} aws dynamodb scan --table-name {local.stack.physical_name('UsersTable')}")
    print(f"  SMTP capture: 127.0.0.1:{local.smtp.port}; mail sent so far: {local.base_url}/_local/mail.html")
    print(f"  Hosted pages the mails link to: {local.base_url}/pages/reset, {local.base_url}/pages/verify")
    print("  IAM: each function held to its template.yaml policy (docs/local-stack.md#iam-enforced)")
    print(f"  OAuth provider 'local' (OpenID Connect, docs/oauth.md): {local.base_url}/_local/idp")
    print("  State lives in memory and is gone when this stops. Try:")
    body = '{"email":"ann@example.com","password":"correct horse battery"}'
    print(f"    curl -s -X POST {local.base_url}/ums/signup -d '{body}'")
    print("  Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stopped.wait(0.5):  # wakes the main thread often: signal handlers run only there
            pass
    print("\nStopping the local stack.", flush=True)
    console.shutdown()
    console.server_close()
    local.stop()
    return 0


def running_stack() -> dict[str, Any]:
    """`/_local/health` of the stack `make dev` runs on UMS_LOCAL_PORT; Refused when none answers."""
    port = port_from_environment("UMS_LOCAL_PORT", PORTS["UMS_LOCAL_PORT"])
    url = f"http://127.0.0.1:{port}/_local/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            health: dict[str, Any] = json.load(answer)
    except (OSError, ValueError) as err:
        raise Refused(f"No local stack answers at {url} ({err}): start `make dev`, or set UMS_LOCAL_PORT") from None
    return {**health, "url": f"http://127.0.0.1:{port}"}


def invoke(args: argparse.Namespace) -> int:
    """Runs one function once with an event file, like `sam local invoke`: against a fresh
    emulator, or with `--stack running` against the emulator of the running `make dev`, so its
    users, tokens and JWT key (a secret in that emulator) are the ones the function sees."""
    from local_stack.aws import MotoServer, create_resources, use_endpoint
    from local_stack.functions import prepare_process
    from local_stack.template import Stack

    try:
        event = json.loads(Path(args.event).read_text())
    except OSError as err:
        raise Refused(f"Cannot read the event file {args.event}: {err.strerror}", exit_code=2) from None
    except ValueError as err:
        raise Refused(f"The event file {args.event} is not JSON: {err}", exit_code=2) from None
    moto = None
    if args.stack == "running":
        health = running_stack()
        stack = Stack(health.get("parameter_overrides") or {})
        use_endpoint(health["aws_endpoint"], health["region"])
        print(f"Invoking against the running stack at {health['url']} ({health['aws_endpoint']})", file=sys.stderr)
    else:
        stack = Stack(parse_overrides(os.environ.get("UMS_PARAMETER_OVERRIDES")))
        moto = MotoServer().start()
        use_endpoint(moto.endpoint, stack.region)
        create_resources(stack, prepare_process(stack))
        print("Invoking against a fresh emulator (STACK=running uses the running `make dev`'s)", file=sys.stderr)
    try:
        functions = prepare_process(stack)
        if args.function not in functions:
            raise Refused(f"No function {args.function!r}; there are: {', '.join(functions)}", exit_code=2)
        # As `sam local invoke`: the function's log lines on stderr, the result alone on stdout.
        # (The Logger's handler takes the stream it is created with: the layer is first imported here.)
        with contextlib.redirect_stdout(sys.stderr):
            result = functions[args.function].invoke(event)
        print(json.dumps(result, indent=2))
    finally:
        if moto is not None:
            moto.stop()
    return 0


def iam_report(args: argparse.Namespace) -> int:
    """Per function: the IAM grants of template.yaml and which the tests used (`make iam-report`)."""
    from local_stack.iam import report
    from local_stack.template import Stack

    usage = Path(args.usage_dir)
    if not any(usage.glob("usage-*.json")):
        raise Refused(f"No usage files in {usage}: run the tests with UMS_IAM_USAGE_DIR={usage} first", exit_code=2)
    print("\n".join(report(Stack(), usage)))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local stack in the foreground")
    serve_parser.add_argument("--port", type=int, help="the gateway's port (default: UMS_LOCAL_PORT, else 3000)")
    serve_parser.add_argument("--smtp-port", type=int, help="default: UMS_LOCAL_SMTP_PORT, else 2525")
    serve_parser.add_argument("--parameter-overrides", help="Name=Value pairs, as sam deploy takes them")
    serve_parser.set_defaults(run=serve)
    invoke_parser = commands.add_parser("invoke", help="run one function once with an event file")
    invoke_parser.add_argument(
        "--stack",
        choices=["fresh", "running"],
        default="fresh",
        help="fresh: a new emulator (default); running: the emulator of the stack on UMS_LOCAL_PORT",
    )
    invoke_parser.add_argument("function", help="the function's logical id in template.yaml")
    invoke_parser.add_argument("event", help="path of an event JSON file")
    invoke_parser.set_defaults(run=invoke)
    report_parser = commands.add_parser("iam-report", help="IAM grants per function, and which the tests used")
    report_parser.add_argument("usage_dir", help="where the tests wrote what they used (UMS_IAM_USAGE_DIR)")
    report_parser.set_defaults(run=iam_report)
    args = parser.parse_args()
    try:
        return int(args.run(args))
    except Refused as err:
        print(f"local_stack {args.command}: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
