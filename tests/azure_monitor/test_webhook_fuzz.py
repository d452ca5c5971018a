"""Hostile requests against POST /api/azure-monitor on the served app: the edge's
hand-picked cases (tests/edge/hostile.py) with and without the secret, plus
hypothesis-made alert payloads with fields of every wrong shape. No 5xx (bar 503), no
stack trace in any answer, and nothing stored from a refused request."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.edge import EdgeLimits
from bot.settings import Settings
from bot.web import STORE
from tests.edge.hostile import ROUTE, Answer, hand_picked, request, send
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url
from tests.support.served import call, served

SECRET = "fuzz-" + "z" * 40
PATH = f"/api/azure-monitor?secret={SECRET}"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Any, Any]]:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            os.environ.pop(name)
    directory = tmp_path_factory.mktemp("azure-fuzz")
    app = create_app(
        Settings(
            _env_file=None,
            database_url=sqlite_url(directory / "alertbot.db"),
            rules_path=CATALOG,
            demo_now=DEMO_NOW,
            rules_reload_seconds=0,
            scheduler_enabled=False,
            notifier="log",
            azure_monitor_webhook_secret=SECRET,
        )
    )
    with served(app, EdgeLimits()) as (port, loop):
        yield port, loop, app[STORE]


def _here(data: bytes, path: str) -> bytes:
    return data.replace(f" {ROUTE} HTTP/1.1".encode(), f" {path} HTTP/1.1".encode(), 1)


@pytest.mark.parametrize("path", [PATH, "/api/azure-monitor"])
def test_hand_picked_hostile_requests(bot: tuple[int, Any, Any], path: str) -> None:
    port, loop, store = bot
    answers = {name: send(port, _here(data, path)) for name, data in hand_picked(None)}
    assert {name: a.status for name, a in answers.items() if a.server_error} == {}
    assert [name for name, a in answers.items() if a.leaks] == []
    assert [name for name, a in answers.items() if a.status is None] in ([], ["negative length"])
    if path != PATH:
        assert {a.status for a in answers.values()} <= {401, 405, 413, 415, None}
    assert call(loop, store.list_alerts(open_only=False)) == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_ESSENTIALS = (
    "alertId",
    "alertRule",
    "severity",
    "monitorCondition",
    "firedDateTime",
    "signalType",
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(_ESSENTIALS), value=_JSON, context=_JSON)
def test_alerts_with_fields_of_any_shape_never_fail_the_server(
    bot: tuple[int, Any, Any], field: str, value: Any, context: Any
) -> None:
    port, _, _ = bot
    body = json.loads((DATA / "log-alert-fired.json").read_text())
    body["data"]["essentials"][field] = value
    body["data"]["alertContext"] = context
    answer: Answer = send(port, request(json.dumps(body).encode(), path=PATH))
    assert answer.status in (200, 400), answer.body[:200]
    assert not answer.leaks
