"""A local, stateful stand-in for Slack (Web API, uploads, response_url, Socket Mode).

    async with serve_slack(sample_workspace()) as slack:
        client = AsyncWebClient(token=slack.state.bot_token, base_url=slack.api_url)

See server.py for the protocol and the test hooks, state.py for what it holds.
"""

from tests.support.slack.server import (
    Failure,
    FakeSlack,
    SlackControls,
    create_slack_app,
    serve_slack,
)
from tests.support.slack.state import (
    SlackChannel,
    SlackMessage,
    SlackState,
    SlackUser,
    sample_workspace,
)
from tests.support.slack.throttle import POST_MESSAGE_LIMIT, RateLimit

__all__ = [
    "POST_MESSAGE_LIMIT",
    "Failure",
    "FakeSlack",
    "RateLimit",
    "SlackChannel",
    "SlackControls",
    "SlackMessage",
    "SlackState",
    "SlackUser",
    "create_slack_app",
    "sample_workspace",
    "serve_slack",
]
