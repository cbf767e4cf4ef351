"""scripts/check_build_imports.py on a fake layer: which packages are swapped for this machine's
builds (the platform-specific wheels, by their WHEEL file) and that everything else is the layer's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_loader import load_script

check_build_imports = load_script("check_build_imports")


def distribution(layer: Path, name: str, version: str, files: list[str], purelib: bool) -> None:
    info = layer / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: {str(purelib).lower()}\n")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("".join(f"{f},sha256=x,1\n" for f in [*files, f"{info.name}/RECORD"]))
    for file in files:
        (layer / file).parent.mkdir(parents=True, exist_ok=True)
        (layer / file).write_text(f"# {name} as built for arm64\n")


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    built = tmp_path / "built"
    distribution(built, "markupsafe", "3.0.4", ["markupsafe/__init__.py", "markupsafe/_speedups.so"], purelib=False)
    distribution(built, "jinja2", "3.1.6", ["jinja2/__init__.py"], purelib=True)
    (built / "ums").mkdir()
    (built / "ums" / "__init__.py").write_text("# the layer's own package\n")
    return built


def test_only_platform_specific_wheels_are_swapped(layer: Path) -> None:
    assert check_build_imports.compiled_distributions(layer) == {
        "markupsafe==3.0.4": ["markupsafe/__init__.py", "markupsafe/_speedups.so", "markupsafe-3.0.4.dist-info/RECORD"]
    }


def test_the_host_copy_takes_the_swapped_packages_from_pip_and_the_rest_from_the_layer(
    layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, ...]] = []

    def pip_target(python: str, target: Path, *requirements: str) -> None:
        asked.append(requirements)
        (target / "markupsafe").mkdir(parents=True)
        (target / "markupsafe" / "__init__.py").write_text("# markupsafe built for this machine\n")

    monkeypatch.setattr(check_build_imports, "pip_target", pip_target)
    host = tmp_path / "host"
    check_build_imports.host_layer(layer, host, "python3.13")
    assert asked == [("markupsafe==3.0.4",)]
    assert (host / "markupsafe" / "__init__.py").read_text() == "# markupsafe built for this machine\n"
    assert not (host / "markupsafe" / "_speedups.so").exists()
    assert (host / "jinja2" / "__init__.py").read_text() == "# jinja2 as built for arm64\n"
    assert (host / "ums" / "__init__.py").exists()
    assert not (host / "markupsafe-3.0.4.dist-info").exists()
