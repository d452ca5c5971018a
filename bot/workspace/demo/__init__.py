"""The deterministic demo workspace: realistic Entra audit and provisioning logs, planted incidents.

`load_demo(con, DemoSpec(now=...))` fills DuckDB tables `raw.AuditLogs` and
`raw.AADProvisioningLogs` and returns a DemoManifest naming what was planted where.
"""

from bot.workspace.demo.generator import load_demo
from bot.workspace.demo.spec import DemoJob, DemoManifest, DemoSpec

__all__ = ["DemoJob", "DemoManifest", "DemoSpec", "load_demo"]
