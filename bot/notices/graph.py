"""Microsoft Graph for notices: install the Teams app for a person and find its 1:1 chat
with them; email a notice from one mailbox. Application permissions (admin consent):

- TeamsAppInstallation.ReadWriteSelfForUser.All (least privilege: the app installs only
  itself; the manifest must carry webApplicationInfo with the bot's Entra app id). Graph
  installs only apps published to the org catalog (or the Teams Store), never sideloaded ones.
- Mail.Send, restricted to the sender mailbox with Exchange RBAC for Applications.
- User.Read.All, to read a person's mail address (the UPN is not always it).

Calls (learn.microsoft.com/graph/api): GET /appCatalogs/teamsApps?$filter=externalId eq
'{manifest id}' (the catalog id differs from the manifest id); POST /users/{id}/teamwork/
installedApps {"teamsApp@odata.bind"} -> 201, 409 already installed, 404 not in the catalog;
GET /users/{id}/teamwork/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '{id}' and
GET .../installedApps/{installation}/chat -> the chat id; GET /users/{id}?$select=mail,
userPrincipalName; POST /users/{sender}/sendMail -> 202. Throttling (429) and 5xx may work
later; other refusals mean this way cannot reach the person (bot.notices.delivery.Unreachable).
Mail cannot be edited: events joining a notice that went by email go in a short follow-up
email with only those events.
"""

from __future__ import annotations

import contextlib
import html
import logging
from typing import Any, Final
from urllib.parse import quote

from azure.core import AsyncPipelineClient
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, UserAgentPolicy
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest import AsyncHttpResponse, HttpRequest

from bot.notices.delivery import Reached, Unreachable
from bot.notices.model import SECURITY_INFO_URL, Notice
from bot.views.notice import NoticeView

log = logging.getLogger(__name__)

GRAPH_SCOPE: Final = "https://graph.microsoft.com/.default"
GRAPH_ROOT: Final = "https://graph.microsoft.com/v1.0"
TIMEOUT: Final = 15.0
#: How a notice's email, and a follow-up with events added to it, begin.
FIRST: Final = "Something changed on your account,"
FOLLOW_UP: Final = "Since our last email, more changed on your account,"


class GraphClient:
    """Requests to Graph with the app's token; answers are returned, not judged."""

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        endpoint: str = GRAPH_ROOT,
        transport: AsyncHttpTransport[Any, Any] | None = None,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        policies = [
            UserAgentPolicy(sdk_moniker="entra-alertbot"),
            AsyncBearerTokenCredentialPolicy(credential, GRAPH_SCOPE),
        ]
        options: dict[str, Any] = {"policies": policies}
        if transport is not None:
            options["transport"] = transport
        self._client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(self._endpoint, **options)
        self._plain_http = self._endpoint.lower().startswith("http://")

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> AsyncHttpResponse:
        """The answer; Unreachable(later) when none came."""
        request = HttpRequest(method, f"{self._endpoint}{path}", json=json, params=params)
        options: dict[str, Any] = {"connection_timeout": TIMEOUT, "read_timeout": TIMEOUT}
        if self._plain_http:
            options["enforce_https"] = False
        try:
            response: AsyncHttpResponse = await self._client.send_request(request, **options)
        except AzureError as error:
            reason = f"{operation}: no answer from Graph ({error.message})"
            raise Unreachable(reason, later=True) from error
        return response

    async def close(self) -> None:
        await self._client.close()


def refusal(operation: str, response: AsyncHttpResponse) -> Unreachable:
    """What a Graph error answer means: later for 429/5xx (after Retry-After)."""
    status = response.status_code
    code = ""
    with contextlib.suppress(ValueError):
        code = str(response.json().get("error", {}).get("code", ""))
    reason = f"{operation}: HTTP {status} {code}".rstrip()
    if status == 429 or status >= 500:
        wait = response.headers.get("Retry-After")
        seconds = float(wait) if wait and wait.isdigit() else None
        return Unreachable(reason, later=True, retry_after=seconds)
    return Unreachable(reason)


class GraphTeamsInstaller:
    """bot.channels.teams.personal.PersonalChatInstaller over Graph."""

    def __init__(self, client: GraphClient, *, external_id: str) -> None:
        self._client = client
        self._external_id = external_id
        self._catalog_id: str | None = None

    async def personal_chat(self, user_id: str) -> str:
        app = await self._catalog_app()
        user = quote(user_id, safe="")
        bind = {"teamsApp@odata.bind": f"{GRAPH_ROOT}/appCatalogs/teamsApps/{app}"}
        path = f"/users/{user}/teamwork/installedApps"
        installed = await self._client.request("install the app", "POST", path, json=bind)
        if installed.status_code == 404:
            raise Unreachable(
                "install the app: HTTP 404 (the app is not in the org catalog, or no such user)"
            )
        if installed.status_code not in (201, 409):  # 409: already installed, go on
            raise refusal("install the app", installed)
        params = {"$expand": "teamsApp", "$filter": f"teamsApp/id eq '{app}'"}
        listed = await self._client.request("find the installation", "GET", path, params=params)
        if listed.status_code != 200:
            raise refusal("find the installation", listed)
        found = listed.json().get("value") or []
        if not found:
            raise Unreachable("find the installation: the app is not installed for them")
        chat_path = f"{path}/{quote(str(found[0]['id']), safe='')}/chat"
        chat = await self._client.request("find the 1:1 chat", "GET", chat_path)
        if chat.status_code != 200:
            raise refusal("find the 1:1 chat", chat)
        return str(chat.json()["id"])

    async def _catalog_app(self) -> str:
        if self._catalog_id is None:
            params = {"$filter": f"externalId eq '{self._external_id}'"}
            answer = await self._client.request(
                "find the app in the catalog", "GET", "/appCatalogs/teamsApps", params=params
            )
            if answer.status_code != 200:
                raise refusal("find the app in the catalog", answer)
            apps = answer.json().get("value") or []
            if not apps:
                raise Unreachable(
                    "the Teams app is not in the org catalog (Graph installs only apps "
                    "published there, not sideloaded ones)"
                )
            self._catalog_id = str(apps[0]["id"])
        return self._catalog_id


class GraphMailer:
    """Reach "email": the notice's facts by mail from one mailbox (Graph sendMail)."""

    name = "email"

    def __init__(self, client: GraphClient, *, sender: str) -> None:
        self._client = client
        self._sender = sender

    async def send(self, notice: Notice, view: NoticeView) -> Reached:
        subject = f"{view.title} Your account {view.person} changed"
        await self._mail(notice, subject, email_html(view))
        return Reached(self.name, None, None)

    async def update(self, notice: Notice, view: NoticeView) -> None:
        """A follow-up with the events the person was not told about yet."""
        added = view.model_copy(update={"events": view.events[notice.told_events :]})
        subject = f"{view.title} More changes to your account {view.person}"
        await self._mail(notice, subject, email_html(added, intro=FOLLOW_UP))

    async def _mail(self, notice: Notice, subject: str, content: str) -> None:
        address = await self._address(notice)
        message = {
            "subject": subject,
            "body": {"contentType": "HTML", "content": content},
            "toRecipients": [{"emailAddress": {"address": address}}],
        }
        path = f"/users/{quote(self._sender, safe='')}/sendMail"
        body = {"message": message, "saveToSentItems": False}
        sent = await self._client.request("send the email", "POST", path, json=body)
        if sent.status_code != 202:
            raise refusal("send the email", sent)

    async def _address(self, notice: Notice) -> str:
        key = notice.person.object_id or notice.person.upn or ""
        params = {"$select": "mail,userPrincipalName"}
        path = f"/users/{quote(key, safe='')}"
        answer = await self._client.request(
            "look up their mail address", "GET", path, params=params
        )
        if answer.status_code != 200:
            raise refusal("look up their mail address", answer)
        user = answer.json()
        address = user.get("mail") or user.get("userPrincipalName")
        if not address:
            raise Unreachable("look up their mail address: they have none")
        return str(address)


def email_html(view: NoticeView, *, intro: str = FIRST) -> str:
    """The notice as a plain HTML email: every value escaped; no answer links (a link in
    an email cannot be made safe without a landing page: it says how to report instead).
    `intro` ends with the person's name."""
    rows = []
    for event in view.events:
        facts = [f"When: {event.at.strftime('%Y-%m-%d %H:%M UTC')}"]
        if event.who:
            facts.append(f"By: {event.who}")
        if event.ip_address:
            facts.append(f"From: {event.ip_address}")
        items = "".join(f"<li>{html.escape(f)}</li>" for f in facts)
        rows.append(f"<p><b>{html.escape(event.text)}</b></p><ul>{items}</ul>")
    return (
        f"<p>{html.escape(intro)} <b>{html.escape(view.person)}</b>.</p>"
        + "".join(rows)
        + "<p>If this was you, there is nothing to do. If it wasn't, answer the notice in "
        "Teams or tell your IT help desk at once.</p>"
        f'<p><a href="{SECURITY_INFO_URL}">Review your sign-in methods</a></p>'
    )
