"""GET /metrics on the real app: Prometheus text, with evaluations, deliveries, the shared
state read from the store, the rule set's hash (also in /readyz) and process information."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.notify import RecordingNotifier
from bot.store.sql import open_store
from tests.support.alerting import sqlite_url, subscribe
from tests.test_app import Client, settings


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_show_evaluations_deliveries_and_the_shared_state(
    aiohttp_client: Client, tmp_path: Path
) -> None:
    store = await open_store(sqlite_url(tmp_path / "alertbot.db"))
    await subscribe(store, "ops", "all")
    await store.close()
    notifier = RecordingNotifier()
    app = create_app(settings(tmp_path, scheduler_spread_seconds=0), notifier=notifier)
    client = await aiohttp_client(app)
    for _ in range(300):
        if len(notifier.delivered) >= 12:
            break
        await asyncio.sleep(0.05)

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(await response.text())
    ok = {k[1][1][1]: v for k, v in found.items() if k[0] == "alertbot_evaluations_total"}
    assert len(ok) == 13  # every rule evaluated once, each "ok" (no slot taken: one replica)
    assert set(ok.values()) == {1.0}
    assert found[("alertbot_deliveries_total", (("channel", "teams"), ("outcome", "sent")))] >= 12
    assert found[("alertbot_alerts", (("status", "firing"),))] >= 12
    assert ("alertbot_outbox_depth", ()) in found
    assert any(name == "alertbot_query_duration_seconds_count" for name, _ in found)
    assert any(name == "alertbot_rule_last_success_timestamp_seconds" for name, _ in found)
    assert any(name == "process_resident_memory_bytes" for name, _ in found)
    (rule_set,) = [dict(k[1])["hash"] for k in found if k[0] == "alertbot_rule_set_info"]
    ready = await (await client.get("/readyz")).json()
    assert f"content hash {rule_set[:16]}" in ready["checks"]["rules"]


def test_claim_takeovers_are_counted_by_kind_and_shown_at_zero_before_the_first() -> None:
    from bot.metrics import BotMetrics

    metrics = BotMetrics(replica="host:1:abc")
    metrics.count_takeover("conversation", "host:2:def")
    found = samples(metrics.exposition().decode())
    takeovers = {
        dict(labels)["kind"]: value
        for (name, labels), value in found.items()
        if name == "alertbot_claim_takeovers_total"
    }
    assert takeovers == {"slot": 0.0, "conversation": 1.0, "writeback": 0.0}
