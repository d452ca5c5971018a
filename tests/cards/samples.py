"""Sample data for every card kind, realistic and huge; shared by the card tests and tools."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts.rule_model import Rule
from bot.command_help import COMMANDS
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    ChannelKind,
    RuleHealth,
    Subscription,
    Transition,
)
from bot.notices.model import Answer, Notice, NoticeEvent, Person
from bot.notices.view import notice_view
from bot.views import (
    CardView,
    LogAnalyticsTarget,
    alert_card_view,
    alert_list_view,
    help_view,
    query_result_view,
    reply_view,
    rule_detail_view,
    rule_list_view,
    subscription_list_view,
)
from bot.views.answer import answer_view
from bot.workspace.base import Column, QueryResult
from tests.cards.digest_samples import digest_views, huge_digest_views

NOW = datetime(2026, 5, 4, 10, 50, tzinfo=UTC)
OPENED = datetime(2026, 5, 4, 10, 42, tzinfo=UTC)
JOB = "scim.3ed727b241f74b28a1e90478f05825e5.6417b88f-b93c-4137-8a73-e7e3daadd60a"
TARGET = LogAnalyticsTarget(
    tenant_id="6417b88f-b93c-4137-8a73-e7e3daadd60a",
    resource_id="/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-identity"
    "/providers/Microsoft.OperationalInsights/workspaces/law-identity",
)


def job_rule(**overrides: Any) -> Rule:
    fields: dict[str, Any] = {
        "id": "provisioning-job-failure-spike",
        "title": "Failures on a business-critical provisioning job",
        "description": "More than 5 failures in 6 hours on the jobs you watch closely.",
        "category": "Provisioning",
        "severity": 1,
        "query": "AADProvisioningLogs\n| where JobId in (watched_job_ids)\n"
        '| where ResultType == "Failure"\n| extend ErrorCode = ResultSignature\n',
        "frequency": "15m",
        "window": "6h",
        "measure": "count",
        "operator": ">",
        "threshold": 5,
        "dimensions": ["JobId"],
        "parameters": {"watched_job_ids": {"type": "string_list", "value": [JOB]}},
        "remediation": {
            "text": "Open the job's **provisioning logs**, group the failures by error code "
            "and fix the most frequent one first.",
            "links": [
                {
                    "title": "Understand how provisioning integrates with Azure Monitor logs",
                    "url": "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs",
                },
                {
                    "title": "Known issues for provisioning",
                    "url": "https://learn.microsoft.com/entra/identity/app-provisioning/known-issues",
                },
            ],
        },
    }
    fields.update(overrides)
    return Rule.model_validate(fields)


def evidence_row(n: int, *, long: int = 0) -> dict[str, Any]:
    """One AADProvisioningLogs row as the engine keeps it (JSON values)."""
    return {
        "TimeGenerated": f"2026-05-04T10:{30 + n % 20:02d}:0{n % 10}.1234567Z",
        "JobId": JOB,
        "CycleId": "1e0b5e1c-7a44-4f7d-9e9b-2a6f0c1d2e3f",
        "ResultType": "Failure",
        "ResultSignature": "SchemaAttributeNotFound",
        "ResultDescription": "The attribute 'employeeNumber' was not found in the target schema."
        + "x" * long,
        "SourceIdentity": json.dumps({"Id": f"user-{n}", "identityType": "User"}),
        "ServicePrincipal": {"Id": "sp-1", "Name": "ServiceNow"},
        "TenantId": "6417b88f-b93c-4137-8a73-e7e3daadd60a",
        "ErrorCode": "SchemaAttributeNotFound",
        "DurationMs": 120 + n,
    }


def alert(status: AlertStatus = AlertStatus.FIRING, **overrides: Any) -> AlertInstance:
    history = [Transition(at=OPENED, from_status=None, to_status=AlertStatus.FIRING)]
    fields: dict[str, Any] = {
        "id": 42,
        "fingerprint": "0123456789abcdef",
        "rule_id": "provisioning-job-failure-spike",
        "dimensions": {"JobId": JOB},
        "status": AlertStatus.FIRING,
        "value": 12,
        "threshold": 5,
        "opened_at": OPENED,
        "last_evaluated_at": datetime(2026, 5, 4, 10, 45, tzinfo=UTC),
        "evidence": [evidence_row(n) for n in range(5)],
        "history": history,
        "version": 3,
    }
    if status is AlertStatus.ACKNOWLEDGED:
        fields |= _acknowledged(history)
    if status is AlertStatus.SNOOZED:
        fields |= _acknowledged(history) | {
            "status": AlertStatus.SNOOZED,
            "snoozed_until": datetime(2026, 5, 4, 14, 0, tzinfo=UTC),
        }
        fields["history"] = [*fields["history"], _move(AlertStatus.SNOOZED, "sam", "Sam Lee")]
    if status is AlertStatus.RESOLVED:
        fields |= {
            "status": AlertStatus.RESOLVED,
            "resolved_at": datetime(2026, 5, 4, 11, 30, tzinfo=UTC),
            "history": [*history, _move(AlertStatus.RESOLVED, "system", None)],
        }
    fields.update(overrides)
    return AlertInstance.model_validate(fields)


def _acknowledged(history: list[Transition]) -> dict[str, Any]:
    entry = _move(AlertStatus.ACKNOWLEDGED, "alex-oid", "Alex Wilber", note="on it, SCIM down")
    return {
        "status": AlertStatus.ACKNOWLEDGED,
        "acknowledged_by": "alex-oid",
        "acknowledged_at": entry.at,
        "history": [*history, entry],
    }


def _move(to: AlertStatus, actor: str, name: str | None, note: str | None = None) -> Transition:
    return Transition(
        at=datetime(2026, 5, 4, 10, 47, tzinfo=UTC),
        from_status=AlertStatus.FIRING,
        to_status=to,
        actor=actor,
        actor_name=name,
        note=note,
    )


def event(kind: AlertEventKind, **overrides: Any) -> AlertEvent:
    fields: dict[str, Any] = {
        "kind": kind,
        "at": NOW,
        "rule_id": "provisioning-job-failure-spike",
        "alert": alert(),
    }
    if kind is AlertEventKind.EVALUATION_ERROR:
        fields |= {"alert": None, "detail": "BadArgumentError: 'where' operator: Failed to "
                   "resolve column or scalar expression named 'JobIdd'"}  # fmt: skip
    if kind is AlertEventKind.EVALUATION_RECOVERED:
        fields |= {"alert": None, "detail": "evaluated again after 3 failed evaluations"}
    fields.update(overrides)
    return AlertEvent.model_validate(fields)


def query_result(rows: int = 12, *, render: dict[str, Any] | None = None) -> QueryResult:
    start = datetime(2026, 5, 3, 12, tzinfo=UTC)
    return QueryResult(
        columns=[
            Column("TimeGenerated", "datetime"),
            Column("ResultSignature", "string"),
            Column("Failures", "long"),
        ],
        rows=[
            [start + timedelta(hours=n), ["SchemaAttributeNotFound", "EntryConflict"][n % 2], n]
            for n in range(rows)
        ],
        elapsed_ms=153.2,
        render=render,
    )


def subscriptions() -> list[Subscription]:
    common = {"conversation_id": "19:abc", "channel": ChannelKind.TEAMS, "created_at": OPENED}
    return [
        Subscription(target="all", max_severity=4, created_by="Alex Wilber", **common),
        Subscription(target="Provisioning", max_severity=2, created_by="Sam Lee", **common),
        Subscription(target="workflow-failed", max_severity=1, created_by="Sam Lee", **common),
    ]


def sample_views() -> dict[str, CardView]:
    """One view per card kind and state, named for the files the validator checks."""
    rule = job_rule()
    rules = {rule.id: rule}
    views: dict[str, CardView] = {
        f"alert-{status.value}": alert_card_view(alert(status), rule, now=NOW, log_analytics=TARGET)
        for status in AlertStatus
    }
    views["alert-demo-no-portal"] = alert_card_view(alert(), rule, now=NOW)
    for kind in (
        AlertEventKind.RENOTIFY,
        AlertEventKind.RESOLVED,
        AlertEventKind.SNOOZE_EXPIRED,
        AlertEventKind.EVALUATION_ERROR,
        AlertEventKind.EVALUATION_RECOVERED,
    ):
        views[f"reply-{kind.value}"] = reply_view(event(kind), rule, now=NOW, failures=3)
    alerts = [alert(s, id=40 + i) for i, s in enumerate(AlertStatus)]
    views["help"] = help_view(COMMANDS)
    views["alerts-open"] = alert_list_view(alerts, rules, scope="open", now=NOW)
    views["alerts-all"] = alert_list_view(alerts, rules, scope="all", now=NOW)
    views["alerts-empty"] = alert_list_view([], rules, scope="open", now=NOW)
    views["subscriptions"] = subscription_list_view(
        subscriptions(), rule_ids={"workflow-failed"}, now=NOW
    )
    views["subscriptions-empty"] = subscription_list_view([], now=NOW)
    views["rules"] = rule_list_view([rule, job_rule(id="other", enabled=False, severity=3)])
    health = RuleHealth(rule_id=rule.id, last_evaluated_at=NOW, last_success_at=NOW)
    views["rule"] = rule_detail_view(rule, health=health, open_alerts=1, now=NOW)
    failed = health.model_copy(update={"last_error": "Timeout: the query ran over 180 s"})
    views["rule-failed"] = rule_detail_view(rule, health=failed, open_alerts=0, now=NOW)
    views["rule-never"] = rule_detail_view(rule, health=None, open_alerts=0, now=NOW)
    kql = "AADProvisioningLogs\n| summarize Failures = count() by bin(TimeGenerated, 1h)"
    views["query-table"] = query_result_view(query_result(), kql=kql, timespan="last 24h")
    views["query-bar"] = query_result_view(
        query_result(render={"visualization": "columnchart"}), kql=kql, title="By error"
    )
    views["query-line"] = query_result_view(query_result(30), kql=kql, chart="line")
    views["query-empty"] = query_result_view(query_result(0), kql=kql)
    views.update(digest_views(NOW))
    views.update(notice_views())
    return views


def sample_notice(events: int = 2, **overrides: Any) -> Notice:
    person = Person(object_id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", upn="alexw@contoso.example")
    rows = [
        NoticeEvent(
            record_id=f"Directory_{n}",
            at=OPENED + timedelta(minutes=n),
            activity="Reset user password" if n == 0 else "User registered security info",
            text="Reset user password" if n == 0 else "User registered security info",
            initiated_by="ada@contoso.example" if n == 0 else "alexw@contoso.example",
            ip_address="203.0.113.77" if n else None,
        )
        for n in range(events)
    ]
    values: dict[str, Any] = {
        "id": "notice0001",
        "rule_id": "account-security-notice",
        "person": person,
        "created_at": NOW,
        "events": tuple(rows),
    }
    return Notice(**(values | overrides))


def notice_views() -> dict[str, CardView]:
    """The notice asking, and after each answer."""
    buttons = ("was_me", "not_me")
    asking = sample_notice()
    was_me = sample_notice(answer=Answer.WAS_ME, answered_at=NOW)
    not_me = sample_notice(answer=Answer.NOT_ME, answered_at=NOW, alert_id=12)
    return {
        name: notice_view(notice, title="Was this you?", buttons=buttons, now=NOW)
        for name, notice in (
            ("notice", asking),
            ("notice-was-me", was_me),
            ("notice-not-me", not_me),
        )
    }


def answer_views() -> dict[str, CardView]:
    """Answer cards (plain-language questions): a narrow table and a wide one."""
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    wide = QueryResult(
        columns=[
            Column("TimeGenerated", "datetime"),
            Column("JobId", "string"),
            Column("SourceIdentity", "string"),
            Column("TargetUPN", "string"),
            Column("Action", "string"),
            Column("ResultSignature", "string"),
            Column("ResultDescription", "string"),
        ],
        rows=[
            [
                start,
                JOB,
                json.dumps({"Id": f"user-{n}", "identityType": "User"}),
                f"adele.vance.long-name-{n}@contoso-identity.onmicrosoft.com",
                "Create",
                "SchemaAttributeNotFound",
                "The attribute 'employeeNumber' was not found in the target schema.",
            ]
            for n in range(3)
        ],
        elapsed_ms=31,
    )
    narrow = QueryResult(
        columns=[Column("ErrorCode", "string"), Column("Failures", "long")],
        rows=[["SchemaAttributeNotFound", 12], ["EntryConflict", 3]],
        elapsed_ms=20,
    )
    facts = [("Time range", "last 24 hours"), ("Provisioning job", JOB)]
    return {
        "answer-wide": answer_view(
            wide,
            kql="AADProvisioningLogs\n| where ResultType == 'Failure'",
            title="Provisioning failures",
            summary="3 failures in the last 24 hours",
            stats="3 rows · 31 ms",
            facts=facts,
            question=f"provisioning failures for {JOB} last 24h",
        ),
        "answer-narrow": answer_view(
            narrow,
            kql="AADProvisioningLogs\n| summarize Failures = count() by ErrorCode",
            title="Errors by code",
            summary="2 error codes",
            stats="2 rows · 20 ms",
            facts=facts[:1],
            question="errors by code",
        ),
    }


def huge_views() -> dict[str, CardView]:
    """Inputs far over the size limit: the renderer must cut them down."""
    rule = job_rule(
        description="d" * 3000,
        query="\n".join(f"| where Column{n} == 'value {n}'" for n in range(400)),
    )
    giant = {f"Col{c}": "v" * 5000 for c in range(40)}
    big_alert = alert(
        evidence=[{**evidence_row(n, long=5000), **giant} for n in range(200)],
        dimensions={f"Dim{n}": "x" * 300 for n in range(6)},
        value=100000,
    )
    many = [alert(id=n, dimensions={"JobId": f"{JOB}-{n}" * 3}) for n in range(1000)]
    wide = QueryResult(
        columns=[Column(f"Column{c}", "string") for c in range(60)],
        rows=[[f"cell {c} " * 400 for c in range(60)] for _ in range(2000)],
        elapsed_ms=9000,
    )
    error = event(AlertEventKind.EVALUATION_ERROR, detail="E" * 100_000)
    many_events = sample_notice(events=400)
    return {
        "huge-notice": notice_view(many_events, title="t" * 100, buttons=("was_me",), now=NOW),
        "huge-alert": alert_card_view(big_alert, rule, now=NOW, log_analytics=TARGET),
        "huge-alerts": alert_list_view(many, {rule.id: rule}, scope="all", now=NOW),
        "huge-rules": rule_list_view([job_rule(id=f"rule-{n}") for n in range(500)]),
        "huge-query": query_result_view(wide, kql=rule.query, chart="bar"),
        "huge-error": reply_view(error, rule, now=NOW),
        "huge-rule": rule_detail_view(rule, health=None, open_alerts=0, now=NOW),
        **huge_digest_views(NOW),
    }


def write_samples(directory: str) -> None:
    """Render every sample card into `directory`, one compact JSON file each."""
    from pathlib import Path

    from bot.channels.teams.cards import CardRenderer

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    renderer = CardRenderer()
    for name, view in {**sample_views(), **huge_views()}.items():
        card = renderer.render(view)
        (out / f"{name}.json").write_text(json.dumps(card, ensure_ascii=False))
    print(f"{out}: sample cards written")


if __name__ == "__main__":
    import sys

    write_samples(sys.argv[1] if len(sys.argv) > 1 else "dist/cards")
