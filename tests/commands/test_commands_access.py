"""Who may do what: readers read, admins act, other tenants are refused; refusals are on record.

Admins by object id and by group membership (a static lookup, and Microsoft Graph's
checkMemberGroups answered by a local fake Graph); when membership cannot be read, the
answer is "not an admin".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from azure.core.credentials import AccessToken

from bot import messages
from bot.commands.access import (
    AccessPolicy,
    EdgeGate,
    GraphGroupMembership,
    GroupLookupError,
    StaticGroupMembership,
    allowed_tenants,
)
from bot.commands.base import Principal
from bot.errors import ConfigError
from bot.models import AlertStatus, ChannelKind
from bot.settings import Settings, load_settings
from bot.views.model import AlertCardView
from tests.support.chat import (
    ADMIN,
    CHANNEL,
    OTHER_TENANT,
    READER,
    TENANT,
    ChatHarness,
    Person,
    caller_for,
)

SPIKE = "provisioning-failure-spike"
ADMINS_GROUP = "5b7f0c1e-0000-4000-8000-00000000a0a0"
OUTSIDER = Person("0a1b2c3d-0000-4000-8000-0000000075e1", "Olu Outsider", OTHER_TENANT)


async def fire(chat: ChatHarness) -> AlertCardView:
    reply = await chat.say(f"run {SPIKE}")
    assert isinstance(reply.view, AlertCardView)
    return reply.view


@pytest.mark.parametrize("text", ["help", "alerts", "alerts all", "subscriptions", "rules"])
async def test_readers_may_read(reader: ChatHarness, text: str) -> None:
    reply = await reader.say(text)

    assert reply.view is not None
    assert reply.text is None
    assert await reader.audit() == []


async def test_readers_may_look_at_a_rule(reader: ChatHarness) -> None:
    reply = await reader.say(f"rule {SPIKE}")

    assert reply.view is not None


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("subscribe all", "subscribe"),
        ("unsubscribe all", "unsubscribe"),
        ("ack {id}", "ack"),
        ("snooze {id} 4h", "snooze"),
        ("unsnooze {id}", "unsnooze"),
        ("resolve {id} not mine", "resolve"),
        (f"run {SPIKE}", "run"),
    ],
)
async def test_readers_are_refused_changes_and_each_refusal_is_on_record(
    chat: ChatHarness, reader: ChatHarness, text: str, action: str
) -> None:
    await chat.say("subscribe all")
    alert = await fire(chat)
    outbox_before = await chat.store.list_outbox()

    reply = await reader.say(text.format(id=alert.alert_id))

    assert reply.text == messages.refused(action)
    assert reply.view is None
    stored = await chat.store.get_alert(alert.alert_id)
    assert stored is not None
    assert (stored.status, stored.version) == (AlertStatus.FIRING, 1)
    assert [s.target for s in await chat.store.list_subscriptions(CHANNEL)] == ["all"]
    assert await chat.store.list_outbox() == outbox_before
    entry = (await chat.audit())[-1]
    assert (entry.action, entry.actor, entry.actor_name) == (action, READER.user_id, READER.name)
    assert entry.detail == "refused: not an alert admin"
    assert entry.conversation_id == CHANNEL
    if "{id}" in text:
        assert entry.alert_id == alert.alert_id


async def test_a_refused_button_leaves_the_card_as_it_is(
    chat: ChatHarness, reader: ChatHarness
) -> None:
    card = await chat.say(f"run {SPIKE}")

    reply = await reader.press(card, "alert.ack")

    assert reply.text == messages.refused("ack")
    assert isinstance(reply.view, AlertCardView)
    assert reply.view.status.state == "firing"
    assert "alert.ack" in reply.verbs
    entry = (await chat.audit())[-1]
    assert (entry.action, entry.actor, entry.detail) == (
        "ack",
        READER.user_id,
        "refused: not an alert admin",
    )


async def test_a_reader_with_bad_arguments_is_refused_rather_than_taught(
    reader: ChatHarness,
) -> None:
    reply = await reader.say("snooze 4 forever")

    assert reply.text == messages.refused("snooze")


async def test_other_tenants_are_refused_everything(chat: ChatHarness) -> None:
    card = await chat.say(f"run {SPIKE}")
    outsider = chat.as_person(OUTSIDER)

    help_ = await outsider.say("help")
    chatter = await outsider.say("hello there, what is this")
    act = await outsider.say("ack 1")
    press = await outsider.press(card, "alert.ack")

    nonsense = await outsider.router.handle_card_action(outsider.caller, "alert.explode", {})
    for reply in (help_, chatter, act, press):
        assert reply.text == messages.other_tenant()
        assert reply.view is None  # not even the alert's card
    assert (nonsense.text, nonsense.view) == (messages.other_tenant(), None)
    refusals = [e for e in await chat.audit() if e.actor == OUTSIDER.user_id]
    assert [(e.action, e.detail) for e in refusals] == [
        ("ack", f"refused: tenant {OTHER_TENANT} is not allowed"),
        ("ack", f"refused: tenant {OTHER_TENANT} is not allowed"),
    ]


async def test_an_admin_id_from_another_tenant_is_no_admin(chat: ChatHarness) -> None:
    impostor = chat.as_person(Person(ADMIN.user_id, "Alex Admin", OTHER_TENANT))

    reply = await impostor.say("subscribe all")

    assert reply.text == messages.other_tenant()
    assert await chat.store.list_subscriptions(CHANNEL) == []


async def test_a_caller_without_a_tenant_is_refused(chat: ChatHarness) -> None:
    reply = await chat.as_person(Person(ADMIN.user_id, "Alex", None)).say("alerts")

    assert reply.text == messages.other_tenant()


async def test_any_tenant_when_none_is_configured_in_the_local_demo(tmp_path: Path) -> None:
    async with await ChatHarness.create(tmp_path, allowed_tenants=None) as chat:
        reply = await chat.as_person(OUTSIDER).say("alerts")
        refused = await chat.as_person(OUTSIDER).say("subscribe all")

    assert reply.view is not None
    assert refused.text == messages.refused("subscribe")


async def test_admins_by_group_membership(tmp_path: Path) -> None:
    membership = StaticGroupMembership({ADMINS_GROUP: [READER.user_id]})
    async with await ChatHarness.create(
        tmp_path, admin=False, admin_group_ids=(ADMINS_GROUP,), membership=membership
    ) as chat:
        reply = await chat.say("subscribe pim")

    assert reply.text == messages.subscribed("Privileged Identity Management", 4)


class _GraphDown:
    async def member_of(self, user_id: str, group_ids: Sequence[str]) -> bool:
        raise GroupLookupError("Microsoft Graph did not answer in 10 s")


async def test_when_group_membership_cannot_be_read_nobody_is_admin_by_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with await ChatHarness.create(
        tmp_path, admin=False, admin_group_ids=(ADMINS_GROUP,), membership=_GraphDown()
    ) as chat:
        with caplog.at_level(logging.WARNING, logger="bot.commands.access"):
            reply = await chat.say("subscribe all")
        by_id = await chat.as_person(ADMIN).say("subscribe all")

    assert reply.text == messages.refused("subscribe")
    assert "treating as not an admin: Microsoft Graph did not answer" in caplog.text
    assert by_id.text == messages.subscribed("all alerts", 4)  # ids need no lookup


async def test_groups_configured_without_a_lookup_fail_closed() -> None:
    policy = AccessPolicy(admin_group_ids=[ADMINS_GROUP], allowed_tenants=[TENANT])
    caller = caller_for(READER)

    assert not await policy.is_admin(caller.principal)


# --- Microsoft Graph -----------------------------------------------------------------


class _Credential:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert scopes == ("https://graph.microsoft.com/.default",)
        return AccessToken("graph-token", int(time.time()) + 3600)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> _Credential:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


class FakeGraph:
    """checkMemberGroups over HTTP: answers from `groups` (user -> groups), or `status`."""

    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups
        self.status = 200
        self.requests: list[tuple[str, list[str]]] = []

    async def check(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer graph-token"
        body = await request.json()
        user = request.match_info["user"]
        self.requests.append((user, body["groupIds"]))
        if self.status != 200:
            return web.json_response({"error": {"code": "x"}}, status=self.status)
        if user not in self.groups:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)
        found = [g for g in body["groupIds"] if g in self.groups[user]]
        return web.json_response({"value": found})


@pytest.fixture
async def graph(aiohttp_server: Any) -> tuple[FakeGraph, str]:
    fake = FakeGraph({READER.user_id: {ADMINS_GROUP}, ADMIN.user_id: set()})
    app = web.Application()
    app.router.add_post("/v1.0/users/{user}/checkMemberGroups", fake.check)
    server = await aiohttp_server(app)
    return fake, str(server.make_url("/v1.0"))


async def test_graph_membership_is_asked_once_and_remembered(graph: tuple[FakeGraph, str]) -> None:
    fake, endpoint = graph
    now = [0.0]
    membership = GraphGroupMembership(_Credential(), endpoint=endpoint, clock=lambda: now[0])
    try:
        first = await membership.member_of(READER.user_id, [ADMINS_GROUP])
        second = await membership.member_of(READER.user_id.upper(), [ADMINS_GROUP])
        not_member = await membership.member_of(ADMIN.user_id, [ADMINS_GROUP])
        unknown_user = await membership.member_of(OUTSIDER.user_id, [ADMINS_GROUP])
        not_a_guid = await membership.member_of("29:teams-id", [ADMINS_GROUP])
        now[0] += 301  # the cached answers expire
        third = await membership.member_of(READER.user_id, [ADMINS_GROUP])
    finally:
        await membership.close()

    assert (first, second, not_member, unknown_user, not_a_guid, third) == (
        True,
        True,
        False,
        False,
        False,
        True,
    )
    assert [user for user, _ in fake.requests] == [
        READER.user_id,
        ADMIN.user_id,
        OUTSIDER.user_id,
        READER.user_id,
    ]


async def test_graph_is_asked_twenty_groups_at_a_time(graph: tuple[FakeGraph, str]) -> None:
    fake, endpoint = graph
    groups = [f"00000000-0000-4000-8000-{n:012d}" for n in range(25)]
    membership = GraphGroupMembership(_Credential(), endpoint=endpoint)
    try:
        assert not await membership.member_of(ADMIN.user_id, groups)
    finally:
        await membership.close()

    assert [len(asked) for _, asked in fake.requests] == [20, 5]


async def test_graph_errors_are_lookup_errors_and_not_remembered(
    graph: tuple[FakeGraph, str],
) -> None:
    fake, endpoint = graph
    fake.status = 403
    membership = GraphGroupMembership(_Credential(), endpoint=endpoint)
    try:
        with pytest.raises(GroupLookupError, match="answered 403"):
            await membership.member_of(READER.user_id, [ADMINS_GROUP])
        fake.status = 200
        assert await membership.member_of(READER.user_id, [ADMINS_GROUP])
    finally:
        await membership.close()


async def test_graph_unreachable_is_a_lookup_error() -> None:
    membership = GraphGroupMembership(_Credential(), endpoint="http://127.0.0.1:9/v1.0", timeout=5)
    try:
        with pytest.raises(GroupLookupError):
            await membership.member_of(READER.user_id, [ADMINS_GROUP])
    finally:
        await membership.close()


# --- Settings ------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_admin_settings_are_comma_separated_guids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTBOT_ADMIN_OBJECT_IDS", f" {ADMIN.user_id.upper()} ,{READER.user_id},")
    monkeypatch.setenv("ALERTBOT_ADMIN_GROUP_IDS", ADMINS_GROUP)

    settings = load_settings(None)

    assert settings.admin_object_ids == (ADMIN.user_id, READER.user_id)
    assert settings.admin_group_ids == (ADMINS_GROUP,)
    policy = AccessPolicy.from_settings(settings)
    assert policy.admin_user_ids == {ADMIN.user_id, READER.user_id}


@pytest.mark.usefixtures("clean_environment")
def test_an_admin_id_that_is_no_guid_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALERTBOT_ADMIN_OBJECT_IDS", "alex@contoso.com")

    with pytest.raises(ConfigError) as raised:
        load_settings(None)

    (problem,) = raised.value.problems
    assert problem.startswith("ALERTBOT_ADMIN_OBJECT_IDS: ")
    assert "'alex@contoso.com'" in problem


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"allowed_tenant_ids": f"{TENANT},{OTHER_TENANT}"}, {TENANT, OTHER_TENANT}),
        ({"azure_tenant_id": TENANT.upper()}, {TENANT}),
        (
            {
                "microsoft_app_id": OTHER_TENANT,
                "microsoft_app_password": "secret",
                "microsoft_app_tenant_id": OTHER_TENANT,
                "azure_tenant_id": TENANT,
            },
            {TENANT, OTHER_TENANT},
        ),
        ({"allowed_tenant_ids": OTHER_TENANT, "azure_tenant_id": TENANT}, {OTHER_TENANT}),
        ({}, None),  # local demo: any tenant
        ({"workspace": "azure", "azure_workspace_id": TENANT}, set()),  # no one until configured
    ],
)
@pytest.mark.usefixtures("clean_environment")
def test_allowed_tenants(settings: dict[str, str], expected: set[str] | None) -> None:
    configured = Settings(_env_file=None, **settings)  # type: ignore[arg-type]

    allowed = allowed_tenants(configured)

    assert allowed == (None if expected is None else frozenset(expected))


# --- one policy for every channel ----------------------------------------------------------


class _SlackAdmins:
    def __init__(self, *user_ids: str) -> None:
        self.user_ids = set(user_ids)

    async def is_admin(self, principal: Principal) -> bool:
        return principal.user_id in self.user_ids


def _slack(user_id: str, team: str | None, entra: str | None = None) -> Principal:
    return Principal(ChannelKind.SLACK, user_id, team, entra_object_id=entra)


async def test_each_channel_has_its_own_allow_list_and_admins() -> None:
    policy = AccessPolicy(
        admin_user_ids=[ADMIN.user_id],
        allowed_tenants=[TENANT],
        allowed_orgs={ChannelKind.SLACK: ["T0ALLOWED"]},
        channel_admins={ChannelKind.SLACK: _SlackAdmins("U0ADMIN")},
    )
    assert policy.org_allowed(_slack("U1", "T0ALLOWED"))
    assert not policy.org_allowed(_slack("U1", "T0OTHER"))
    assert not policy.org_allowed(_slack("U1", TENANT))  # a Teams tenant is no Slack workspace
    assert await policy.is_admin(_slack("U0ADMIN", "T0ALLOWED"))
    assert not await policy.is_admin(_slack("U0ADMIN", "T0OTHER"))
    assert not await policy.is_admin(_slack("U2", "T0ALLOWED"))
    # A Slack user mapped (by email) to an Entra admin is an admin.
    assert await policy.is_admin(_slack("U2", "T0ALLOWED", entra=ADMIN.user_id))


async def test_a_channel_without_an_allow_list_lets_no_one_in() -> None:
    policy = AccessPolicy(allowed_tenants=None)
    assert not policy.org_allowed(_slack("U1", "T0ALLOWED"))


def test_the_edge_gate_tells_a_refused_conversation_once() -> None:
    gate = EdgeGate(AccessPolicy(allowed_tenants=[TENANT]))
    assert not gate.allows(_slack("U1", "T0"))
    assert gate.first_refusal("C1")
    assert not gate.first_refusal("C1")
