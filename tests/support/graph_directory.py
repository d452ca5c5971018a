"""What the local Microsoft Graph knows: users (with their transitive group memberships),
the Teams app catalog, app installations with their 1:1 chats, mailboxes allowed to send,
and the mail sent. Shapes follow the user, teamsApp, teamsAppDefinition and
userScopeTeamsAppInstallation resources (microsoft-graph-docs-contrib api-reference/v1.0/resources).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final


@dataclass
class GraphUser:
    id: str
    user_principal_name: str
    display_name: str
    mail: str | None = None
    groups: set[str] = field(default_factory=set)  # transitive memberships

    def to_json(self) -> dict[str, Any]:
        return {
            "businessPhones": [],
            "displayName": self.display_name,
            "givenName": self.display_name.split(" ")[0],
            "jobTitle": None,
            "mail": self.mail,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-US",
            "surname": self.display_name.split(" ")[-1],
            "userPrincipalName": self.user_principal_name,
            "id": self.id,
        }


@dataclass
class TeamsApp:
    id: str
    external_id: str
    display_name: str
    distribution_method: str = "organization"
    azure_ad_app_id: str | None = None
    version: str = "1.0.0"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "externalId": self.external_id,
            "displayName": self.display_name,
            "distributionMethod": self.distribution_method,
        }

    def definition(self) -> dict[str, Any]:
        return {
            "id": base64.b64encode(f"{self.id}##{self.version}".encode()).decode(),
            "teamsAppId": self.id,
            "azureADAppId": self.azure_ad_app_id,
            "displayName": self.display_name,
            "version": self.version,
            "publishingState": "published",
        }


@dataclass
class Installation:
    id: str
    user_id: str
    app_id: str
    chat_id: str
    created: datetime


@dataclass
class SentMail:
    mailbox: str
    message: dict[str, Any]
    save_to_sent_items: bool

    @property
    def recipients(self) -> list[str]:
        return [r["emailAddress"]["address"] for r in self.message.get("toRecipients", [])]


@dataclass
class GraphState:
    """The directory and Teams as the fake knows them; tests change it between calls.
    `denied` holds operation names answered 403 (a permission not granted)."""

    tenant_id: str = "5ef3be57-f45f-451a-88c4-68a7fda680bb"
    users: dict[str, GraphUser] = field(default_factory=dict)
    catalog: dict[str, TeamsApp] = field(default_factory=dict)
    installations: dict[str, Installation] = field(default_factory=dict)
    mail_senders: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    sent: list[SentMail] = field(default_factory=list)

    def add_user(self, user_id: str, upn: str, name: str, **options: Any) -> GraphUser:
        user = GraphUser(user_id, upn, name, **options)
        self.users[user_id.lower()] = user
        return user

    def find_user(self, key: str) -> GraphUser | None:
        key = key.lower()
        return self.users.get(key) or next(
            (u for u in self.users.values() if u.user_principal_name.lower() == key), None
        )

    def install(self, user: GraphUser, app: TeamsApp) -> Installation:
        """As Teams does on install: an installation id and the 1:1 chat with the bot."""
        installation_id = base64.b64encode(f"{user.id}##{app.id}".encode()).decode()
        bot = app.azure_ad_app_id or app.id
        installation = Installation(
            installation_id,
            user.id,
            app.id,
            f"19:{bot}_{user.id}@unq.gbl.spaces",
            datetime.now(UTC),
        )
        self.installations[installation_id] = installation
        return installation

    def installed_for(self, user_id: str) -> list[Installation]:
        return [i for i in self.installations.values() if i.user_id == user_id]


BOT_APP_ID: Final = (
    "0c6a5b9e-7d1f-4e43-9a55-6f0e2b1c3d4e"  # the bot's Entra app (manifest webApplicationInfo)
)
MANIFEST_ID: Final = "8a3b2c1d-0e9f-4a7b-8c6d-5e4f3a2b1c0d"  # the Teams manifest id (externalId)
CATALOG_APP_ID: Final = "e2f0a6b4-3c5d-4e7f-9a1b-2c3d4e5f6a7b"  # the org catalog's teamsApp id


def sample_directory() -> GraphState:
    """Three people (one with the bot already installed), the bot in the org catalog, and
    a sender mailbox the app may send from."""
    state = GraphState()
    state.add_user(
        "8c7f0b8e-0000-4000-8000-00000000abcd", "ada@contoso.com", "Ada Admin",
        mail="ada@contoso.com", groups={"3f1c2b9a-0000-4000-8000-000000000001"},
    )  # fmt: skip
    state.add_user(
        "6b1e2f3a-0000-4000-8000-00000000beef",
        "rey@contoso.com",
        "Rey Reader",
        mail="rey.reader@contoso.com",
    )
    installed = state.add_user(
        "4d5e6f70-0000-4000-8000-00000000cafe",
        "ina@contoso.com",
        "Ina Installed",
        mail="ina@contoso.com",
    )
    state.add_user(
        "9a8b7c6d-0000-4000-8000-0000000a1e47",
        "alerts@contoso.com",
        "Alert Bot Mailbox",
        mail="alerts@contoso.com",
    )
    state.mail_senders.add("alerts@contoso.com")
    app = TeamsApp(CATALOG_APP_ID, MANIFEST_ID, "Entra Alerts", azure_ad_app_id=BOT_APP_ID)
    state.catalog[app.id] = app
    state.install(installed, app)
    return state
