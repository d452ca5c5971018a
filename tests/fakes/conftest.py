"""The fakes' own tests use the shared fixtures."""

from tests.support.fakes import fake_alerts_management, fake_graph, fake_slack, slack_client

__all__ = ["fake_alerts_management", "fake_graph", "fake_slack", "slack_client"]
