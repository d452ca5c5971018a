from tests.channels.teams.conftest import fake, service_url, store  # noqa: F401
from tests.support.fakes import fake_graph, fake_slack, slack_client  # noqa: F401
