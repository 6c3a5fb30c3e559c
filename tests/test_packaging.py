"""requirements.txt, pyproject.toml and environment.yml describe one environment."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"requirements.txt must pin exactly: {line}"
            pins[requirement.name.lower()] = spec.version
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_torch_is_pinned_first_and_exactly():
    first = next(line for line in (ROOT / "requirements.txt").read_text().splitlines()
                 if line.strip() and not line.startswith("#"))
    assert first == "torch==2.13.0"


def test_every_pin_satisfies_the_project_ranges():
    pins = pinned_requirements()
    ranges = {Requirement(dep).name.lower(): Requirement(dep).specifier for dep in project()["dependencies"]}
    assert set(ranges) <= set(pins), f"unpinned dependencies: {sorted(set(ranges) - set(pins))}"
    for name, specifier in ranges.items():
        assert specifier.contains(pins[name]), f"{name}=={pins[name]} is outside pyproject's {specifier}"
    assert not SpecifierSet(str(ranges["torch"])).contains("2.14.0"), "torch must stay capped below 2.14"


def test_environment_yml_points_at_the_pip_files():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert pip_section == ["-r requirements.txt", "-e ."]
    python = next(item for item in env["dependencies"] if isinstance(item, str) and item.startswith("python="))
    version = re.fullmatch(r"python=(\d+\.\d+)", python).group(1)
    assert SpecifierSet(project()["requires-python"]).contains(f"{version}.0")
