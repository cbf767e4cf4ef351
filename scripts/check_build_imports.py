"""`make build`'s import check: does every built function import from the built layer alone?

Lambda puts a function's code, then the layer's `python/`, then the runtime's AWS SDK on the
path, with the template's environment. This runs the interpreter given (Python 3.13) isolated
(`-I -S`: no site-packages, no PYTHONPATH) with exactly that path: the function's directory from
`.aws-sam/build`, a copy of the built layer, and the SDK pinned in `layers/ums/ums/runtime-sdk.txt`
(as the runtime provides it, so the layer must not need anything else). A dependency missing from
`layers/ums/requirements.txt`, or a module that fails at import, fails the build, named.

The layer's compiled packages are AArch64 and cannot load on another machine: the copy swaps
each of them for the same name and version built for this machine (the layer's own pure-Python
files are used as built). `scripts/check_build.py` checks the AArch64 files themselves.

Exit status 1 with one line per function that fails; 0 otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local_stack.template import Stack  # noqa: E402 (the repository root is on the path first)

RUNTIME_SDK = ROOT / "layers" / "ums" / "ums" / "runtime-sdk.txt"
# What Lambda sets for every function (the rest comes from the template).
LAMBDA_ENVIRONMENT = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "LAMBDA_TASK_ROOT": "/var/task"}
ALL_FUNCTIONS = {"ExampleApi": "true"}
IMPORT = """
import importlib, sys
sys.path[:0] = sys.argv[1:4]
module, name = sys.argv[4].rsplit(".", 1)
if not callable(getattr(importlib.import_module(module), name, None)):
    sys.exit(f"{sys.argv[4]} is not a function")
"""


def compiled_distributions(layer: Path) -> dict[str, list[str]]:
    """{"name==version": files it installed} for the layer's platform-specific wheels."""
    found: dict[str, list[str]] = {}
    for wheel in sorted(layer.glob("*.dist-info/WHEEL")):
        if "Root-Is-Purelib: false" not in wheel.read_text():
            continue
        metadata = Parser().parsestr((wheel.parent / "METADATA").read_text())
        record = (wheel.parent / "RECORD").read_text().splitlines()
        found[f"{metadata['Name']}=={metadata['Version']}"] = [line.split(",", 1)[0] for line in record if line]
    return found


def pip_target(python: str, target: Path, *requirements: str) -> None:
    options = ["--no-deps", "--only-binary=:all:", "-qq", "--disable-pip-version-check", "--root-user-action=ignore"]
    # The interpreter and requirements come from this repository's Makefile and build.
    subprocess.run([python, "-m", "pip", "install", *options, "--target", str(target), *requirements], check=True)  # noqa: S603


def host_layer(layer: Path, into: Path, python: str) -> None:
    """The built layer, its compiled packages rebuilt for this machine."""
    compiled = compiled_distributions(layer)
    pip_target(python, into, *compiled)
    swapped = {Path(name).parts[0] for files in compiled.values() for name in files}
    for entry in layer.iterdir():
        if entry.name not in swapped and not (into / entry.name).exists():
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, into / entry.name)


def import_problems(build: Path, python: str) -> list[str]:
    layer = build / "UmsLayer" / "python"
    # Every function `sam build` built: conditions off by default (the example API) switched on.
    functions = {spec.logical_id: spec for spec in Stack(ALL_FUNCTIONS).functions()}
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ums-imports-") as scratch:
        host, sdk = Path(scratch) / "layer", Path(scratch) / "sdk"
        host_layer(layer, host, python)
        pip_target(python, sdk, "-r", str(RUNTIME_SDK))
        built = sorted(p for p in build.iterdir() if (p / "app.py").is_file())
        for code in built:
            spec = functions.get(code.name)
            if spec is None:
                found.append(f"{code.name}: built, but not a function of template.yaml")
                continue
            environment = {**LAMBDA_ENVIRONMENT, **spec.environment, "PATH": "/usr/bin:/bin"}
            result = subprocess.run(  # noqa: S603 (the Makefile's interpreter, the build's paths)
                [python, "-I", "-S", "-c", IMPORT, str(code), str(host), str(sdk), spec.handler],
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                found.append(f"{code.name}: {spec.handler} does not import: {last}")
        swapped = len(compiled_distributions(layer))
        print(
            f"check_build_imports: {len(built)} functions checked ({swapped} compiled packages built for this machine)"
        )
    return found


def main(argv: list[str]) -> int:
    build = Path(argv[1] if len(argv) > 1 else ".aws-sam/build")
    python = argv[2] if len(argv) > 2 else "python3.13"
    if not (build / "UmsLayer" / "python").is_dir():
        print(f"check_build_imports: {build} has no built layer: run `sam build` first", file=sys.stderr)
        return 1
    found = import_problems(build, python)
    for problem in found:
        print(f"check_build_imports: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
