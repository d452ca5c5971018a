"""Every benchmark script still imports: they are not run by the suite, so a moved module
would otherwise break them unnoticed (benchmarks/local_startup.py did once)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SCRIPTS = sorted(
    p.stem for p in (Path(__file__).parents[1] / "benchmarks").glob("*.py") if p.stem != "__init__"
)


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_benchmark_script_imports(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert module.__doc__, f"benchmarks/{name}.py says nothing of what it measures"
