"""Slack callers as principals: names from users.info, Slack admins by user id and user
group (usergroups.users.list), and the Entra user with the same email through Microsoft
Graph GET /users/{upn} (the local Graph, tests/support/graph_api.py, after user-get.md)."""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken

from bot.channels.slack.people import SlackAdmins, SlackPeople
from bot.commands.access import GraphGroupMembership
from bot.commands.base import Principal
from bot.models import ChannelKind
from tests.support.graph_api import FakeGraph
from tests.support.slack import FakeSlack

ADA_ENTRA = "8c7f0b8e-0000-4000-8000-00000000abcd"


def slack_user(user_id: str) -> Principal:
    return Principal(ChannelKind.SLACK, user_id, "T0TEAM0001")


async def test_admins_by_user_id_and_by_user_group(
    fake_slack: FakeSlack, slack_client: Any
) -> None:
    by_group = SlackAdmins(slack_client, usergroup_ids=("s0admins01",))
    assert await by_group.is_admin(slack_user("U0ADMIN001"))
    assert not await by_group.is_admin(slack_user("U0READ0001"))
    assert len(fake_slack.state.calls_to("usergroups.users.list")) == 1  # remembered
    by_id = SlackAdmins(slack_client, user_ids=("U0READ0001",))
    assert await by_id.is_admin(slack_user("U0READ0001"))


async def test_an_unreadable_user_group_makes_no_admins(
    fake_slack: FakeSlack, slack_client: Any
) -> None:
    fake_slack.controls.fail_next("usergroups.users.list", "missing_scope")
    admins = SlackAdmins(slack_client, usergroup_ids=("S0ADMINS01",))
    assert not await admins.is_admin(slack_user("U0ADMIN001"))


async def test_a_slack_user_is_mapped_to_the_entra_user_with_the_same_email(
    fake_slack: FakeSlack, slack_client: Any, fake_graph: FakeGraph
) -> None:
    token = fake_graph.tokens.issue("https://graph.microsoft.com/.default")

    class Static:
        async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            return AccessToken(token, 2_000_000_000)

        async def close(self) -> None:
            return None

    graph = GraphGroupMembership(Static(), endpoint=fake_graph.endpoint)  # type: ignore[arg-type]
    try:
        people = SlackPeople(slack_client, entra=graph.user_by_email)
        ada = await people.person("U0ADMIN001")
        assert (ada.name, ada.email, ada.entra_object_id) == (
            "Ada Admin",
            "ada@contoso.com",
            ADA_ENTRA,
        )
        rey = await people.person("U0READ0001")
        assert rey.entra_object_id is not None  # rey@contoso.com is Rey's UPN
        nobody = await people.person("U0NOBODY01")
        assert (nobody.name, nobody.entra_object_id) == (None, None)
    finally:
        await graph.close()


def test_the_audit_log_names_a_mapped_slack_user_by_their_entra_id() -> None:
    from datetime import UTC, datetime

    from bot.channels.slack.conversations import caller
    from bot.commands.context import CommandContext

    now = datetime(2026, 5, 4, tzinfo=UTC)
    mapped = caller(
        team_id="T0TEAM0001",
        user_id="U0ADMIN001",
        channel_id="C0ALERTS01",
        name="Ada Admin",
        entra_object_id=ADA_ENTRA,
    )
    unmapped = caller(team_id="T0TEAM0001", user_id="U0READ0001", channel_id="C0ALERTS01")
    services: Any = None
    assert CommandContext(mapped, now, services).audit_entry("ack").actor == ADA_ENTRA
    assert CommandContext(unmapped, now, services).audit_entry("ack").actor == "U0READ0001"
