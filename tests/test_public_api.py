"""The adapters' public API: what a developer embeds is importable from
``toekgw.adapters.<counterpart>``, listed in ``__all__``, and the guide uses only that."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = (
    "g68",
    "serviceplatform",
    "nemkonto",
    "eindkomst",
    "payments",
    "oir",
    "kombit",
    "beskedfordeler",
    "debitor",
    "ydelsesindeks",
)
GUIDES = [ROOT / "docs" / "developers.md", *sorted((ROOT / "examples").glob("*.py"))]


@pytest.mark.parametrize("counterpart", ADAPTERS)
def test_every_public_name_is_importable_and_documented(counterpart: str) -> None:
    package = importlib.import_module(f"toekgw.adapters.{counterpart}")
    assert package.__doc__ and len(package.__doc__.split()) > 20
    names = package.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(package, name), f"toekgw.adapters.{counterpart} lacks {name}"


def _python_blocks(path: Path) -> list[str]:
    if path.suffix == ".py":
        return [path.read_text(encoding="utf-8")]
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def _adapter_imports(source: str) -> list[str]:
    """The adapter modules a code sample imports (the samples are not all complete Python:
    some elide arguments with ``...``, so this reads the import lines)."""
    pattern = r"^\s*(?:from|import)\s+(toekgw\.adapters[\w.]*)"
    return re.findall(pattern, source, re.M)


def test_the_guide_and_examples_import_adapters_only_at_package_level() -> None:
    allowed = {f"toekgw.adapters.{c}" for c in ADAPTERS} | {"toekgw.adapters.config"}
    seen = 0
    for guide in GUIDES:
        for block in _python_blocks(guide):
            for module in _adapter_imports(block):
                seen += 1
                assert module in allowed, f"{guide.name}: reaches into {module}"
    assert seen >= 5  # the guide does use the adapters


def test_the_check_catches_a_submodule_import() -> None:
    sample = "from toekgw.adapters.nemkonto.release import release\n"
    assert _adapter_imports(sample) == ["toekgw.adapters.nemkonto.release"]
