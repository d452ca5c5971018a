"""`health [job|app] [window]` and `digest now` through the real router on the demo logs.

Figures are checked against the health catalog's KQL run directly (bot.health.kpis), and
the planted ServiceNow spike (25 Unauthorized failures, with its hint) and silent AD job
must show; `digest now` also lists the alerts opened, acknowledged and snoozed in the
same chat, and the planted governance changes.
"""

from __future__ import annotations

from datetime import timedelta

from bot.health import kpis
from bot.models import AlertStatus
from bot.views.digest import DigestView
from bot.views.model import AlertCardView
from bot.workspace.demo.scenario_paused import STILL_PAUSED_APP
from bot.workspace.demo.scenarios import FAILURE_SPIKE_COUNT
from tests.cards.conftest import nodes
from tests.support.alerting import DEMO_NOW
from tests.support.chat import ChatHarness, demo_workspace, error_hints, health_catalog

DAY = (DEMO_NOW - timedelta(hours=24), DEMO_NOW)


async def test_health_of_every_job_is_the_digest(chat: ChatHarness) -> None:
    reply = await chat.say("health")
    view = reply.view
    assert isinstance(view, DigestView)
    expected = await kpis.job_health(demo_workspace(), health_catalog(), DAY)
    # every job that logged, and the app paused six days ago that logged nothing since
    assert {job.app: job.events for job in view.jobs} == {
        **{j.app: j.events for j in expected},
        STILL_PAUSED_APP: 0,
    }
    first = view.jobs[0]
    assert (first.app, first.status, first.failure) == (
        "ServiceNow",
        "failing",
        FAILURE_SPIKE_COUNT,
    )
    assert [e.code for e in first.top_errors] == ["Unauthorized"]
    silent = [job for job in view.jobs if job.status == "silent"]
    assert [job.app for job in silent] == ["corp.woodgrove.com"]
    paused = [job for job in view.jobs if job.status == "paused"]
    assert [job.app for job in paused] == [STILL_PAUSED_APP]
    assert "need attention" in view.summary
    assert "1 paused job" in view.summary
    assert "Unauthorized ×25" in reply.card_text
    assert "Failures per day" in reply.card_text  # the chart's fallback table title


async def test_health_of_one_app_has_its_cycles(chat: ChatHarness) -> None:
    reply = await chat.say("health Workday")
    view = reply.view
    assert isinstance(view, DigestView)
    assert view.title.startswith("Health: Workday")
    (job,) = view.jobs
    found = await kpis.cycles(demo_workspace(), health_catalog(), DAY, job=job.job_id)
    assert view.cycles is not None
    assert [row.cells[0] for row in view.cycles.rows] == [c.cycle_id for c in found][:48]
    assert sum(c.events for c in found) == job.events
    assert job.disables_deletes >= 60  # the planted bulk termination
    assert "Success / Failure / Skipped / Warning" in reply.card_text


async def test_health_of_a_paused_app_that_logged_nothing_says_it_is_paused(
    chat: ChatHarness,
) -> None:
    reply = await chat.say(f"health {STILL_PAUSED_APP.split()[0].lower()}")
    view = reply.view
    assert isinstance(view, DigestView), reply.text
    assert view.title == f"Health: {STILL_PAUSED_APP}"
    (job,) = view.jobs
    assert (job.app, job.status, job.events) == (STILL_PAUSED_APP, "paused", 0)
    assert job.state_since is not None
    assert job.state_by
    assert "1 paused job" in view.summary


async def test_a_window_and_unknown_names_are_answered_plainly(chat: ChatHarness) -> None:
    week = await chat.say("health servicenow 7d")
    assert isinstance(week.view, DigestView)
    assert "Last 7 days" in week.view.period
    unknown = await chat.say("health nosuchapp")
    assert unknown.view is None
    assert "nosuchapp" in (unknown.text or "")
    assert "ServiceNow" in (unknown.text or "")
    too_long = await chat.say("health workday 400d")
    assert "90d" in (too_long.text or "")


async def test_digest_now_is_for_admins(chat: ChatHarness, reader: ChatHarness) -> None:
    shown = await chat.say("digest now")
    assert isinstance(shown.view, DigestView)
    refused = await reader.say("digest now")
    assert refused.view is None
    bad = await chat.say("digest weekly 08:00")
    assert "which day" in (bad.text or "")


async def test_digest_now_shows_open_alerts_governance_and_hints(chat: ChatHarness) -> None:
    spike = await chat.say("run provisioning-failure-spike")
    assert isinstance(spike.view, AlertCardView)
    review = await chat.say("run access-review-deleted")
    assert isinstance(review.view, AlertCardView)
    await chat.say(f"ack {spike.view.alert_id}")
    await chat.say(f"snooze {review.view.alert_id} 4h")

    reply = await chat.say("digest now")

    view = reply.view
    assert isinstance(view, DigestView)
    assert view.open_alerts is not None
    assert view.governance is not None
    open_ids = {a.id for a in await chat.store.list_alerts(open_only=True)}
    assert view.open_alerts.total == len(open_ids)
    listed = {(g.severity.level, row.alert_id, row.state) for g in view.open_alerts.groups
              for row in g.alerts}  # fmt: skip
    assert (2, str(spike.view.alert_id), AlertStatus.ACKNOWLEDGED) in listed
    assert (3, str(review.view.alert_id), AlertStatus.SNOOZED) in listed
    expected = await kpis.governance_changes(demo_workspace(), health_catalog(), DAY)
    assert {(c.change, c.count) for c in view.governance.changes} == {
        (g.change, g.count) for g in expected
    }
    text = reply.card_text
    assert f"Open alerts ({len(open_ids)})" in text
    assert "acknowledged by Alex Admin" in text
    assert "snoozed until" in text
    assert "Governance changes" in text
    assert "Access reviews deleted (1)" in text
    facts = {n["title"]: n["value"] for n in nodes(reply.card) if "title" in n and "value" in n}
    assert facts["Access reviews deleted (1)"].startswith(
        "Latest: Guest access review - Fabrikam Collaboration, by "
    )
    assert f"Unauthorized: \n{error_hints()('Unauthorized')}" in text


async def test_one_jobs_health_has_no_digest_sections(chat: ChatHarness) -> None:
    reply = await chat.say("health Workday")
    assert isinstance(reply.view, DigestView)
    assert (reply.view.open_alerts, reply.view.governance) == (None, None)
    assert "Open alerts" not in reply.card_text
    assert "Governance changes" not in reply.card_text
