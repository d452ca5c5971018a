"""The adapter reuses its connector and user-token clients across turns: botbuilder made
two new ones per turn, each costing ~5 ms of CPU in msrest's configuration (measured with
benchmarks/command_cpu.py: `help` 15.5 → 8.7 ms, `alerts` 14.0 → 6.0 ms of bot CPU)."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.channels.teams.adapter import BotIdentity, build_adapter

URL = "https://smba.trafficmanager.net/emea/"


async def _connector(adapter: object, service_url: str) -> object:
    authentication = adapter.bot_framework_authentication  # type: ignore[attr-defined]
    head = Activity(channel_id="msteams", service_url=service_url)
    result = await authentication.authenticate_request(head, "")
    return await result.connector_factory.create(service_url, result.audience)


async def test_turns_to_one_service_url_share_one_connector_client() -> None:
    adapter = build_adapter(BotIdentity())
    first, second = await _connector(adapter, URL), await _connector(adapter, URL)
    assert first is second
    assert await _connector(adapter, "https://smba.trafficmanager.net/amer/") is not first


async def test_factories_made_for_proactive_messages_share_their_clients() -> None:
    adapter = build_adapter(BotIdentity())
    claims = adapter.create_claims_identity("")
    authentication = adapter.bot_framework_authentication
    first = authentication.create_connector_factory(claims)
    second = authentication.create_connector_factory(claims)
    assert await first.create(URL, None) is await second.create(URL, None)


async def test_the_user_token_client_is_made_once() -> None:
    adapter = build_adapter(BotIdentity())
    claims = adapter.create_claims_identity("")
    authentication = adapter.bot_framework_authentication
    made = await authentication.create_user_token_client(claims)
    assert await authentication.create_user_token_client(claims) is made
