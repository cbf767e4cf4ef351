"""scripts/check_build.py, `make build`'s last step, on fake build directories: an x86-64 or
wrong-ABI extension fails the build and is named; bundled boto3 fails; the layer's size is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_loader import load_script

check_build = load_script("check_build")


def elf(machine: int) -> bytes:
    """The start of a 64-bit little-endian ELF shared object for `machine` (183 AArch64, 62 x86-64)."""
    return (
        b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + (3).to_bytes(2, "little") + machine.to_bytes(2, "little") + b"\x00" * 44
    )


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A build like sam's: a function with its app.py, a layer with one AArch64 extension."""
    (tmp_path / "SignUpFunction").mkdir()
    (tmp_path / "SignUpFunction" / "app.py").write_text("def handler(event, context): ...\n")
    package = tmp_path / "UmsLayer" / "python" / "markupsafe"
    package.mkdir(parents=True)
    (package / "_speedups.cpython-313-aarch64-linux-gnu.so").write_bytes(elf(183))
    (package / "__init__.py").write_text("")
    return tmp_path


def test_a_right_build_passes_and_reports_the_layer_size(build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_build.main(["check_build", str(build)]) == 0
    out = capsys.readouterr().out
    assert "UmsLayer: 0.0 MiB unzipped, target 15 MiB" in out and "1 compiled extensions checked, 0 problem(s)" in out


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("_rust.abi3.so", elf(62), "built for ELF machine 62 (x86-64), not AArch64"),
        ("_re2.cpython-311-aarch64-linux-gnu.so", elf(183), "not tagged cpython-313-aarch64-linux-gnu or abi3"),
        ("_x.cpython-313-x86_64-linux-gnu.so", elf(62), "not AArch64"),
        ("_broken.abi3.so", b"not an elf", "not an ELF file"),
    ],
)
def test_a_wrong_extension_fails_the_build_and_is_named(
    build: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, problem: str
) -> None:
    (build / "UmsLayer" / "python" / "markupsafe" / name).write_bytes(content)
    assert check_build.main(["check_build", str(build)]) == 1
    errors = capsys.readouterr().err
    assert f"UmsLayer/python/markupsafe/{name}: " in errors and problem in errors


def test_a_vendored_shared_library_needs_no_python_tag(build: Path) -> None:
    libs = build / "UmsLayer" / "python" / "cffi.libs"
    libs.mkdir()
    (libs / "libffi-1234.so.8.1.0").write_bytes(elf(183))
    assert check_build.problems(build)[0] == []
    (libs / "libffi-1234.so.8.1.0").write_bytes(elf(62))
    assert check_build.problems(build)[0] == [
        "UmsLayer/python/cffi.libs/libffi-1234.so.8.1.0: built for ELF machine 62 (x86-64), not AArch64"
    ]


def test_bundled_boto3_and_oversized_function_code_fail(build: Path) -> None:
    (build / "UmsLayer" / "python" / "boto3").mkdir()
    (build / "UmsLayer" / "python" / "boto3" / "__init__.py").write_text("")
    (build / "SignUpFunction" / "big.bin").write_bytes(b"x" * 60_000)
    assert check_build.problems(build)[0] == [
        "SignUpFunction: 60033 bytes of function code (limit 51200)",
        "UmsLayer: bundles boto3 (the python3.13 runtime has it)",
    ]


def test_no_build_is_an_error(tmp_path: Path) -> None:
    assert check_build.main(["check_build", str(tmp_path / "missing")]) == 1
