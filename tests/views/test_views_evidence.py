"""The alert card's evidence table keeps what reads in a narrow column.

Seen in the Agents Playground at the ~450 px Teams gives a card: provisioning rows'
ModifiedProperties and ProvisioningSteps (dynamic columns, which Log Analytics sends as
JSON text) overlapped their neighbours. They are named under "Not shown" instead; the
full rows stay reachable through Show query.
"""

from __future__ import annotations

import json

from bot.views.evidence import from_rows


def _row(n: int) -> dict[str, object]:
    return {
        "TimeGenerated": f"2026-12-04 13:1{n}:00",
        "ResultDescription": f"Failed to update User 'u{n}@woodgrove.com' in ServiceNow",
        "ModifiedProperties": json.dumps([{"displayName": "department", "newValue": f"{n}"}]),
        "ProvisioningSteps": json.dumps({"name": "EntryImport", "status": n}),
        "Note": f"[{n}] bracketed, not JSON",
    }


def test_json_text_columns_are_named_not_shown() -> None:
    table = from_rows([_row(n) for n in range(3)])
    assert table is not None
    assert table.columns == ("TimeGenerated", "ResultDescription", "Note")
    assert "ModifiedProperties" in table.hidden_note
    assert "ProvisioningSteps" in table.hidden_note


def test_parsed_json_values_are_left_out_too() -> None:
    rows = [{**_row(n), "ModifiedProperties": [{"displayName": "x"}]} for n in range(2)]
    table = from_rows(rows)
    assert table is not None
    assert "ModifiedProperties" not in table.columns
