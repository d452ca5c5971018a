"""The deterministic demo workspace: realistic Entra audit and provisioning logs, planted incidents.

`load_demo(con, DemoSpec(now=...))` fills DuckDB tables `raw.AuditLogs` and
`raw.AADProvisioningLogs` and returns a DemoManifest naming what was planted where.
`cache.open_demo` gives the same tables from a file kept between runs.

The generator is imported on first use of `load_demo`: opening a cached demo needs
none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.workspace.demo.spec import DemoJob, DemoManifest, DemoSpec

if TYPE_CHECKING:
    from bot.workspace.demo.generator import load_demo

__all__ = ["DemoJob", "DemoManifest", "DemoSpec", "load_demo"]


def __getattr__(name: str) -> Any:
    if name == "load_demo":
        from bot.workspace.demo.generator import load_demo

        return load_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
