"""`make build`'s last step: is what `sam build` made right for Lambda's `python3.13` on arm64?

Checks `.aws-sam/build` (or the directory given):
- every compiled extension (`*.so`, `*.so.*`) is a 64-bit little-endian ELF for AArch64, and a
  Python extension module's tag is `cpython-313-aarch64-linux-gnu` or `abi3` (an x86-64 or
  wrong-ABI file fails the build, named);
- boto3, botocore and s3transfer are not bundled (the runtime has them);
- each function's code stays within measure 6's 50 KB.

The layer's unzipped size is reported against measure 6's 15 MB: over it is a warning, not a
failure (docs/bench.md, "Artifact size", says why it is over since RS256 tokens).

Exit status 1 with one line per problem; 0 otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

EM_AARCH64 = 183
EXTENSION_TAG = re.compile(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$")
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer")
FUNCTION_CODE_LIMIT = 50 * 1024
LAYER_TARGET = 15 * 1024 * 1024


def elf_problem(path: Path) -> str | None:
    """Why `path` is not an AArch64 shared object, or None."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not an ELF file"
    if header[4] != 2 or header[5] != 1:
        return "not a 64-bit little-endian ELF"
    machine = int.from_bytes(header[18:20], "little")
    if machine != EM_AARCH64:
        return f"built for ELF machine {machine} ({'x86-64' if machine == 62 else 'not AArch64'}), not AArch64"
    return None


def is_extension_module(path: Path) -> bool:
    """A Python extension (imported as a module), as opposed to a shared library it loads."""
    return path.name.endswith(".so") and ".libs" not in path.parent.name


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def problems(build: Path) -> tuple[list[str], list[str]]:
    """(problems, notes) of the build directory."""
    found: list[str] = []
    notes: list[str] = []
    for path in sorted(build.rglob("*.so*")):
        if not path.is_file() or not re.search(r"\.so(\.\d+)*$", path.name):
            continue
        where = path.relative_to(build)
        if (why := elf_problem(path)) is not None:
            found.append(f"{where}: {why}")
        elif is_extension_module(path) and not EXTENSION_TAG.search(path.name):
            found.append(f"{where}: not tagged cpython-313-aarch64-linux-gnu or abi3")
    for artifact in sorted(p for p in build.iterdir() if p.is_dir()):
        for package in RUNTIME_PACKAGES:
            if any(artifact.rglob(f"{package}/__init__.py")):
                found.append(f"{artifact.name}: bundles {package} (the python3.13 runtime has it)")
        if artifact.name.endswith("Layer"):
            layer = size(artifact)
            over = " (over the target: a warning, see docs/bench.md)" if layer > LAYER_TARGET else ""
            notes.append(
                f"{artifact.name}: {layer / 2**20:.1f} MiB unzipped, target {LAYER_TARGET / 2**20:.0f} MiB{over}"
            )
        elif (code := size(artifact)) > FUNCTION_CODE_LIMIT:
            found.append(f"{artifact.name}: {code} bytes of function code (limit {FUNCTION_CODE_LIMIT})")
    return found, notes


def main(argv: list[str]) -> int:
    build = Path(argv[1] if len(argv) > 1 else ".aws-sam/build")
    if not build.is_dir():
        print(f"check_build: {build} does not exist: run `sam build` first", file=sys.stderr)
        return 1
    found, notes = problems(build)
    for note in notes:
        print(f"check_build: {note}")
    for problem in found:
        print(f"check_build: {problem}", file=sys.stderr)
    extensions = sum(1 for p in build.rglob("*.so") if p.is_file())
    print(f"check_build: {extensions} compiled extensions checked, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
