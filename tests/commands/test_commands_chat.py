"""Every command, as a conversation with the bot: the happy path, and bad arguments.

The ops channel talks to the real router over a real store, with the demo workspace
pinned at DEMO_NOW, where `provisioning-failure-spike` fires for one job and
`provisioning-job-silent` does not (it needs two breaching evaluations).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import messages
from bot.commands.base import Caller, Reply
from bot.commands.handlers import REGISTRY
from bot.models import AlertEventKind, AlertStatus, Subscription
from bot.views.model import AlertCardView, AlertListView, HelpCardView, RuleDetailView
from tests.alerts.builders import make_rule
from tests.support.alerting import DEMO_NOW
from tests.support.chat import ADMIN, CHANNEL, ChatHarness, catalog

SPIKE = "provisioning-failure-spike"  # Provisioning, Sev2, one alert per JobId
SILENT = "provisioning-job-silent"  # 2 of 2 evaluations: quiet at the first run


async def fire(chat: ChatHarness, rule_id: str = SPIKE) -> int:
    reply = await chat.say(f"run {rule_id}")
    assert isinstance(reply.view, AlertCardView), reply
    return reply.view.alert_id


# --- help, and text that is no command -----------------------------------------------


async def test_help_lists_exactly_the_registry(chat: ChatHarness) -> None:
    reply = await chat.say("help")

    assert isinstance(reply.view, HelpCardView)
    assert [entry.usage for entry in reply.view.commands] == [c.usage for c in REGISTRY.commands]
    for command in REGISTRY.commands:
        assert command.usage in reply.card_text
        assert command.description in reply.card_text


async def test_help_about_one_command(chat: ChatHarness) -> None:
    reply = await chat.say("help snooze")

    assert isinstance(reply.view, HelpCardView)
    assert [entry.usage for entry in reply.view.commands] == ["snooze <id> <duration>"]


async def test_a_bare_mention_gets_the_help_card(chat: ChatHarness) -> None:
    reply = await chat.say("  ")

    assert reply.text is None
    assert isinstance(reply.view, HelpCardView)
    assert len(reply.view.commands) == len(REGISTRY.commands)


async def test_unknown_text_gets_i_did_not_understand_and_help(chat: ChatHarness) -> None:
    reply = await chat.say("what is the weather")

    assert reply.text == messages.unknown_command("what is the weather")
    assert isinstance(reply.view, HelpCardView)
    assert len(reply.view.commands) == len(REGISTRY.commands)


async def test_a_misspelt_command_gets_did_you_mean(chat: ChatHarness) -> None:
    reply = await chat.say("snoze 4 4h")

    assert reply.text is not None
    assert "I didn't understand `snoze 4 4h`. Did you mean `snooze`?" in reply.text
    assert isinstance(reply.view, HelpCardView)


async def test_unknown_text_is_quoted_back_short_and_without_backticks(chat: ChatHarness) -> None:
    reply = await chat.say("`drop` " + "x" * 200)

    assert reply.text is not None
    assert "'drop' xxx" in reply.text
    assert len(reply.text) < 150


async def test_free_text_goes_to_the_fallback_first(tmp_path: Path) -> None:
    asked: list[str] = []

    async def chat_query(caller: Caller, text: str) -> Reply | None:
        asked.append(text)
        return Reply(text="14 failures") if "failures" in text else None

    async with await ChatHarness.create(tmp_path, fallback=chat_query) as chat:
        answered = await chat.say("provisioning failures last 24h")
        not_answered = await chat.say("tell me a joke")
        command = await chat.say("rules")

    assert answered.text == "14 failures"
    assert not_answered.text == messages.unknown_command("tell me a joke")
    assert isinstance(not_answered.view, HelpCardView)
    assert command.text is None  # commands never reach the fallback
    assert asked == ["provisioning failures last 24h", "tell me a joke"]


@pytest.mark.parametrize(
    ("text", "usage", "problem"),
    [
        ("ack", "ack <id> [note]", "Something is missing: the id."),
        ("snooze 4 forever", "snooze <id> <duration>", "`forever` is not a duration"),
        ("snooze 1 99999999999d", "snooze <id> <duration>", "`99999999999d` is out of range"),
        ("unsnooze x", "unsnooze <id>", "`x` is not an alert number"),
        ("resolve", "resolve <id> [note]", "Something is missing: the id."),
        ("subscribe nowhere", "subscribe <category|rule id|all> [min severity]", "`nowhere`"),
        ("unsubscribe", "unsubscribe <category|rule id|all>", "Something is missing"),
        ("subscriptions of others", "subscriptions", "I did not expect `of others` there."),
        ("alerts closed", "alerts [open|all]", "`closed` is not one of: all, open."),
        ("rules now", "rules", "I did not expect `now` there."),
        ("rule nope", "rule <id>", "There is no rule `nope`."),
        ("run", "run <rule id>", "Something is missing: the rule id."),
    ],
)
async def test_bad_arguments_answer_with_the_commands_usage(
    chat: ChatHarness, text: str, usage: str, problem: str
) -> None:
    reply = await chat.say(text)

    assert reply.text is not None
    assert problem in reply.text
    assert reply.text.endswith(f"Usage: `{usage}`")
    assert isinstance(reply.view, HelpCardView)
    (entry,) = reply.view.commands
    assert entry.usage == usage
    assert entry.examples in reply.card_text


# --- subscriptions -------------------------------------------------------------------


async def test_subscribe_to_a_category_from_a_severity(chat: ChatHarness) -> None:
    reply = await chat.say("subscribe Prov sev2")

    assert reply.text == messages.subscribed("Provisioning", 2)
    assert "Category \nProvisioning\n · Sev2 (Warning) and more severe" in reply.card_text
    (subscription,) = await chat.store.list_subscriptions(CHANNEL)
    assert (subscription.target, subscription.max_severity) == ("Provisioning", 2)
    assert subscription.created_by == "Alex Admin"
    (entry,) = await chat.audit()
    assert (entry.action, entry.actor_name, entry.conversation_id) == (
        "subscribe",
        "Alex Admin",
        CHANNEL,
    )
    assert entry.detail == "Provisioning (Sev2 (Warning) and more severe)"


async def test_subscribing_again_replaces_the_severity(chat: ChatHarness) -> None:
    await chat.say("subscribe pim")
    await chat.say("subscribe Privileged Identity Management 0")

    (subscription,) = await chat.store.list_subscriptions(CHANNEL)
    assert (subscription.target, subscription.max_severity) == (
        "Privileged Identity Management",
        0,
    )


async def test_subscribe_to_a_rule_and_to_everything(chat: ChatHarness) -> None:
    await chat.say("subscribe Workflow-Failed")
    reply = await chat.say("subscribe all")

    assert reply.text == messages.subscribed("all alerts", 4)
    targets = {s.target for s in await chat.store.list_subscriptions(CHANNEL)}
    assert targets == {"workflow-failed", "all"}
    assert "Rule \nworkflow-failed" in reply.card_text
    assert "Everything: \nall alerts" in reply.card_text


async def test_subscribe_where_the_bot_has_no_reference_yet(chat: ChatHarness) -> None:
    elsewhere = chat.in_conversation("19:new@thread.tacv2")

    reply = await elsewhere.say("subscribe all")

    assert reply.text == messages.conversation_unknown()
    assert await chat.store.list_subscriptions("19:new@thread.tacv2") == []


async def test_unsubscribe(chat: ChatHarness) -> None:
    await chat.say("subscribe access reviews")
    reply = await chat.say("unsubscribe Access Reviews.")

    assert reply.text == messages.unsubscribed("Access Reviews")
    assert await chat.store.list_subscriptions(CHANNEL) == []
    assert "Nothing yet." in reply.card_text
    assert [e.action for e in await chat.audit()] == ["subscribe", "unsubscribe"]


async def test_unsubscribe_from_what_is_not_subscribed_changes_nothing(chat: ChatHarness) -> None:
    await chat.say("subscribe all")
    reply = await chat.say("unsubscribe pim")

    assert reply.text == messages.not_subscribed("Privileged Identity Management")
    assert len(await chat.store.list_subscriptions(CHANNEL)) == 1
    assert [e.action for e in await chat.audit()] == ["subscribe"]


async def test_unsubscribe_from_a_rule_that_no_longer_exists(chat: ChatHarness) -> None:
    await chat.store.subscribe(
        Subscription(
            conversation_id=CHANNEL,
            channel=chat.caller.channel,
            target="retired-rule",
            created_by="someone",
            created_at=DEMO_NOW,
        )
    )
    reply = await chat.say("unsubscribe Retired-Rule")

    assert reply.text == messages.unsubscribed("retired-rule")
    assert await chat.store.list_subscriptions(CHANNEL) == []


async def test_subscriptions_lists_this_conversation_only(chat: ChatHarness) -> None:
    empty = await chat.say("subscriptions")
    await chat.say("subscribe provisioning")
    other = chat.in_conversation("19:other@thread.tacv2")
    await chat.joined("19:other@thread.tacv2")
    await other.say("subscribe pim")

    listed = await chat.say("subscriptions")

    assert "Nothing yet." in empty.card_text
    assert [row.target for row in listed.view.rows] == ["Provisioning"]


# --- alerts and what people do with them ---------------------------------------------


async def test_alerts_lists_open_ones_and_all_includes_resolved(chat: ChatHarness) -> None:
    nothing = await chat.say("alerts")
    first = await fire(chat)
    second = await fire(chat, "workflow-failed")
    await chat.say(f"resolve {second}")

    open_ = await chat.say("alerts")
    every = await chat.say("alerts all")

    assert isinstance(nothing.view, AlertListView)
    assert nothing.view.total == 0
    assert isinstance(open_.view, AlertListView)
    assert [row.alert_id for row in open_.view.rows] == [str(first)]
    assert isinstance(every.view, AlertListView)
    assert sorted(row.alert_id for row in every.view.rows) == sorted([str(first), str(second)])
    assert "resolved" in every.card_text


async def test_ack_by_text(chat: ChatHarness) -> None:
    alert_id = await fire(chat)

    reply = await chat.say(f"ack #{alert_id} looking at the SCIM endpoint")

    assert reply.text == f"Alert {alert_id} acknowledged."
    assert isinstance(reply.view, AlertCardView)
    assert reply.view.status.state == "acknowledged"
    assert reply.view.status.actor == "Alex Admin"
    assert reply.view.status.note == "looking at the SCIM endpoint"
    assert "alert.ack" not in reply.verbs
    stored = await chat.store.get_alert(alert_id)
    assert stored is not None
    assert stored.acknowledged_by == chat.caller.user_id
    acks = [e for e in await chat.audit() if e.action == "ack"]
    assert len(acks) == 1  # the pipeline writes it; the router does not write it again
    assert (acks[0].alert_id, acks[0].detail) == (alert_id, "looking at the SCIM endpoint")


async def test_ack_twice_says_who_has_it(chat: ChatHarness) -> None:
    alert_id = await fire(chat)
    await chat.say(f"ack {alert_id}")

    reply = await chat.say(f"ack {alert_id}")

    assert reply.text == messages.already_acknowledged(alert_id, "Alex Admin")
    assert isinstance(reply.view, AlertCardView)


async def test_an_unknown_alert_number(chat: ChatHarness) -> None:
    reply = await chat.say("ack 999")

    assert reply.text == messages.alert_not_found(999)
    assert reply.view is None


async def test_snooze_and_unsnooze_by_text(chat: ChatHarness) -> None:
    alert_id = await fire(chat)

    snoozed = await chat.say(f"snooze {alert_id} 4 hours")
    woken = await chat.say(f"unsnooze #{alert_id}")
    again = await chat.say(f"unsnooze {alert_id}")

    assert snoozed.text == f"Alert {alert_id} snoozed."
    assert isinstance(snoozed.view, AlertCardView)
    assert snoozed.view.status.state == "snoozed"
    assert snoozed.view.status.until.isoformat() == "2026-03-02T16:00:00+00:00"
    assert snoozed.view.status.actor == ADMIN.name  # a name, not an object id
    assert woken.text == f"Alert {alert_id} no longer snoozed."
    assert isinstance(woken.view, AlertCardView)
    assert woken.view.status.state == "firing"
    assert again.text == messages.not_snoozed(alert_id)
    actions = [e.action for e in await chat.audit() if e.alert_id == alert_id]
    assert actions == ["snooze", "unsnooze"]


async def test_resolve_by_text(chat: ChatHarness) -> None:
    alert_id = await fire(chat)

    reply = await chat.say(f"resolve {alert_id} fixed the mapping")
    after = await chat.say(f"ack {alert_id}")

    assert reply.text == f"Alert {alert_id} resolved."
    assert isinstance(reply.view, AlertCardView)
    assert reply.view.status.state == "resolved"
    assert reply.view.status.note == "fixed the mapping"
    assert reply.verbs == []
    assert after.text == messages.alert_not_open(alert_id)


# --- rules ---------------------------------------------------------------------------


async def test_rules_lists_the_catalog(chat: ChatHarness) -> None:
    reply = await chat.say("rules")

    assert sorted(row.rule_id for row in reply.view.rows) == sorted(r.id for r in catalog())
    for rule in catalog():
        assert rule.title in reply.card_text


async def test_rule_shows_its_kql_schedule_and_last_result(chat: ChatHarness) -> None:
    before = await chat.say(f"rule {SPIKE}")
    alert_id = await fire(chat)
    after = await chat.say("rule provisioning-failure")

    assert isinstance(before.view, RuleDetailView)
    assert before.view.last.never
    assert before.text is None
    assert "every 1h over 1d" in before.card_text
    assert 'where ResultType == "Failure"' in before.card_text
    assert isinstance(after.view, RuleDetailView)
    assert after.view.last.ok
    assert after.view.last.open_alerts == "1 open alert"
    assert after.text == messages.open_alert_ids([alert_id])
    assert after.verbs == ["rule.run"]


async def test_run_fires_shows_the_card_and_notifies_subscribers(chat: ChatHarness) -> None:
    await chat.say("subscribe provisioning")

    reply = await chat.say(f"run {SPIKE}")

    assert reply.text == f"Rule `{SPIKE}` fired:"
    assert isinstance(reply.view, AlertCardView)
    assert reply.view.rule_id == SPIKE
    assert reply.verbs == ["alert.ack", "alert.snooze", "alert.resolve"]
    (delivery,) = await chat.store.list_outbox(conversation_id=CHANNEL)
    assert delivery.event.kind is AlertEventKind.FIRED
    assert delivery.event.alert is not None
    assert delivery.event.alert.id == reply.view.alert_id
    runs = [e for e in await chat.audit() if e.action == "run"]
    assert [e.detail for e in runs] == [f"{SPIKE}: alert {reply.view.alert_id} open"]


async def test_run_again_says_still_firing(chat: ChatHarness) -> None:
    alert_id = await fire(chat)
    chat.clock.advance(minutes=5)

    reply = await chat.say(f"run {SPIKE}")

    assert reply.text == f"Rule `{SPIKE}` is still firing:"
    assert isinstance(reply.view, AlertCardView)
    assert reply.view.alert_id == alert_id


async def test_run_that_does_not_fire_answers_ok_with_value_and_threshold(
    chat: ChatHarness,
) -> None:
    reply = await chat.say(f"run {SILENT}")

    assert reply.view is None
    assert reply.text is not None
    assert reply.text.startswith(f"OK: `{SILENT}` measured 8.67 (JobId=")
    assert reply.text.endswith("alerts when maximum HoursSilent > 4 in 2 of 2 evaluations.")


async def test_run_with_several_alerts_lists_them(chat: ChatHarness) -> None:
    every_job = make_rule(
        id="every-job-failing",
        query='AADProvisioningLogs | where ResultType == "Failure"',
        window="24h",
        frequency="1h",
        dimensions=["JobId"],
    )
    chat.rules.replace([*catalog(), every_job], loaded_at=DEMO_NOW)

    reply = await chat.say("run every-job-failing")

    assert isinstance(reply.view, AlertListView)
    assert reply.view.total > 1
    assert reply.text == messages.run_firing(
        "every-job-failing", open_count=reply.view.total, new=reply.view.total
    )


async def test_run_whose_query_fails_says_so(chat: ChatHarness) -> None:
    broken = make_rule(id="broken-rule", query="NoSuchTable | take 1")
    chat.rules.replace([*catalog(), broken], loaded_at=DEMO_NOW)

    reply = await chat.say("run broken-rule")

    assert reply.text is not None
    assert reply.text.startswith("Rule `broken-rule` could not be evaluated: ")
    assert isinstance(reply.view, RuleDetailView)
    assert not reply.view.last.ok


async def test_run_a_disabled_rule_is_refused(chat: ChatHarness) -> None:
    disabled = make_rule(id="switched-off", enabled=False)
    chat.rules.replace([*catalog(), disabled], loaded_at=DEMO_NOW)

    reply = await chat.say("run switched-off")

    assert reply.text == messages.rule_disabled("switched-off")
    assert await chat.store.get_rule_health("switched-off") is None


async def test_an_alert_whose_rule_is_gone_still_answers_in_text(chat: ChatHarness) -> None:
    alert_id = await fire(chat)
    chat.rules.replace([r for r in catalog() if r.id != SPIKE], loaded_at=DEMO_NOW)

    reply = await chat.say(f"ack {alert_id}")

    assert reply.text == f"Alert {alert_id} acknowledged."
    assert reply.view is None
    stored = await chat.store.get_alert(alert_id)
    assert stored is not None
    assert stored.status is AlertStatus.ACKNOWLEDGED
