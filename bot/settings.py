"""Settings, read once at start-up from ALERTBOT_* environment variables and `.env`.

Every setting is documented in config/example.env; a test keeps the two in step.
Invalid settings raise ConfigError with one line per problem, naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.resources import config_dir

ENV_PREFIX = "ALERTBOT_"
#: The shipped rule and question catalogs (package data; see bot.resources).
CONFIG_DIR = config_dir()
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_WORKSPACE_RESOURCE = (
    r"^/subscriptions/[^/]+/resource[Gg]roups/[^/]+"
    r"/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$"
)
_HTTPS = r"^https://\S+$"


def _comma_separated(value: object) -> object:
    """`id1, id2` as the environment gives it: a tuple of lower-case ids."""
    if isinstance(value, str):
        return tuple(part.strip().lower() for part in value.split(",") if part.strip())
    return value


def _comma_separated_upper(value: object) -> object:
    """`U0123, S0456` as the environment gives it: a tuple of upper-case Slack ids."""
    if isinstance(value, str):
        return tuple(part.strip().upper() for part in value.split(",") if part.strip())
    return value


#: Slack ids (users U…/W…, user groups S…, workspaces T…), comma-separated.
SlackIdList = Annotated[
    tuple[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2,20}$")], ...],
    NoDecode,
    BeforeValidator(_comma_separated_upper),
]

#: Entra object ids (GUIDs), comma-separated in the environment.
GuidList = Annotated[
    tuple[Annotated[str, StringConstraints(pattern=_GUID)], ...],
    NoDecode,
    BeforeValidator(_comma_separated),
]


#: People by Entra object id or user principal name, comma-separated in the environment.
PersonList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        # Variables without our prefix (a shared .env) are none of our business; unknown
        # ALERTBOT_* ones are refused by load_settings, by the name they are written with.
        extra="ignore",
        frozen=True,
    )

    # Where KQL runs.
    workspace: Literal["local", "azure"] = "local"
    query_timeout_seconds: int = Field(default=180, ge=1, le=600)
    max_result_rows: int = Field(default=500_000, ge=1, le=500_000)

    # The embedded demo workspace (workspace=local).
    demo_seed: int = 42
    demo_now: datetime | None = None
    demo_days: int = Field(default=30, ge=2, le=90)
    demo_size: Literal["small", "medium", "large"] = "small"
    demo_clock: Literal["demo", "wall"] = "demo"
    # Generated demo workspaces and KQL translations, kept between runs.
    cache_dir: Path = Path("var/cache")

    # Azure Log Analytics (workspace=azure).
    azure_workspace_id: str | None = None
    azure_endpoint: str = "https://api.loganalytics.io/v1"
    azure_credential: Literal["default", "cli", "managed_identity"] = "default"
    azure_managed_identity_client_id: str | None = None
    # Queries due together sent as one $batch (at most 40; 1: each query alone). The
    # batch operation is deprecated and supported until March 2028.
    azure_batch_size: int = Field(default=10, ge=1, le=40)
    # "Open in Log Analytics" on alert cards: shown only when both are set.
    azure_tenant_id: str | None = Field(default=None, pattern=_GUID)
    azure_workspace_resource_id: str | None = Field(default=None, pattern=_WORKSPACE_RESOURCE)

    # Alert rules.
    rules_path: Path = CONFIG_DIR / "rules"

    # Questions asked in plain language (`alertbot ask`, chat): the command catalog.
    questions_path: Path = CONFIG_DIR / "questions"
    # Provisioning health KPIs (the digest and `health`): a catalog in the questions' format.
    health_path: Path = CONFIG_DIR / "health"
    # What usually fixes each provisioning error code, shown beside the top errors.
    health_hints_path: Path = CONFIG_DIR / "health" / "hints"

    # The store (alerts, subscriptions, conversations, audit log, outbox).
    database_url: str = Field(default="sqlite+aiosqlite:///var/alertbot.db", min_length=1)

    # The alert engine: scheduling, rule reloads, notification delivery.
    scheduler_enabled: bool = True
    max_concurrent_queries: int = Field(default=5, ge=1, le=50)
    scheduler_spread_seconds: float = Field(default=60, ge=0, le=3600)
    rules_reload_seconds: float = Field(default=5, ge=0, le=3600)
    notifier: Literal["teams", "log", "file"] = "teams"
    notifier_file: Path = Path("var/deliveries.jsonl")
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_lease_seconds: float = Field(default=120, ge=1, le=3600)
    # Several replicas: conversations delivered to at once (per process), and how many
    # replicas share the app's rate limit (each paces itself to its share). 16 keeps a
    # fan-out at Teams' 50 a second with ~0.1 s a request; 32 claimed half as often but
    # drew 3x the 429s at the same speed (benchmarks/teams_fanout.py, issue 14).
    delivery_concurrency: int = Field(default=16, ge=1, le=200)
    replicas: int = Field(default=1, ge=1, le=50)

    # The HTTP server.
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The HTTP edge (bot.edge): slow or hostile callers.
    http_header_timeout_seconds: float = Field(default=10, ge=1, le=300)
    http_body_timeout_seconds: float = Field(default=10, ge=1, le=300)
    http_max_unauthenticated: int = Field(default=64, ge=1, le=10_000)
    # Serve without an app id on a non-loopback address: anyone who reaches the port can
    # act as anyone. Never in production.
    insecure_unauthenticated_on_network: bool = False
    log_format: Literal["text", "json"] = "text"

    # The Teams app package (`alertbot manifest`).
    microsoft_app_id: str | None = Field(default=None, pattern=_GUID)
    teams_app_name: str = Field(default="Entra Alerts", min_length=1, max_length=30)
    teams_app_version: str = Field(default="1.0.0", pattern=r"^\d+\.\d+\.\d+$")
    teams_developer_name: str = Field(default="IT Operations", min_length=1, max_length=32)
    teams_developer_url: str = Field(default="https://www.example.com", pattern=_HTTPS)
    teams_privacy_url: str = Field(default="https://www.example.com/privacy", pattern=_HTTPS)
    teams_terms_url: str = Field(default="https://www.example.com/terms", pattern=_HTTPS)

    # The bot's Bot Framework identity (POST /api/messages, proactive messages); its app
    # id is microsoft_app_id above. No app id: no authentication (local use only).
    microsoft_app_type: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = "SingleTenant"
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str | None = Field(default=None, pattern=_GUID)

    # Who may do what in chat (bot.commands.access).
    admin_object_ids: GuidList = ()
    admin_group_ids: GuidList = ()
    admin_group_cache_seconds: int = Field(default=300, ge=0, le=3600)
    allowed_tenant_ids: GuidList = ()

    # Azure Monitor action groups posting alerts to POST /api/azure-monitor (off when
    # neither a secret nor an audience is set), and writing chat actions back to Azure.
    azure_monitor_webhook_secret: SecretStr | None = None
    azure_monitor_audience: str | None = Field(default=None, min_length=1)
    azure_monitor_tenant_id: str | None = Field(default=None, pattern=_GUID)
    azure_monitor_authority: str = Field(
        default="https://login.microsoftonline.com", pattern=r"^https?://\S+$"
    )
    azure_monitor_writeback: bool = False
    azure_monitor_arm_endpoint: str = Field(
        default="https://management.azure.com", pattern=r"^https?://\S+$"
    )

    @field_validator("azure_monitor_webhook_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters (e.g. `openssl rand -hex 32`)")
        return value

    @model_validator(mode="after")
    def _secure_webhook_needs_a_tenant(self) -> Settings:
        if self.azure_monitor_audience and not self.azure_monitor_tenant_id:
            raise ValueError(
                f"{ENV_PREFIX}AZURE_MONITOR_TENANT_ID is required with "
                f"{ENV_PREFIX}AZURE_MONITOR_AUDIENCE (secure webhook)"
            )
        return self

    # Slack (bot.channels.slack): off unless a bot token is set. HTTP mode needs the signing
    # secret (POST /slack/events); Socket Mode needs the app-level token (no public URL).
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_mode: Literal["http", "socket"] = "socket"
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://\S+/$")
    slack_slash_command: str = Field(default="/entra", pattern=r"^/[a-z0-9_-]{1,31}$")
    slack_allowed_team_ids: SlackIdList = ()
    slack_admin_user_ids: SlackIdList = ()
    slack_admin_usergroup_ids: SlackIdList = ()
    slack_map_emails_to_entra: bool = False
    slack_app_name: str = Field(default="Entra Alerts", min_length=1, max_length=35)
    slack_public_url: str | None = Field(default=None, pattern=_HTTPS)
    # Notices to the person an event happened to (rules with notify_person; bot.notices).
    notices_enabled: bool = False
    notices_pilot_user_ids: PersonList = ()
    notices_pilot_group_ids: GuidList = ()
    notices_opt_out_user_ids: PersonList = ()
    notices_opt_out_group_ids: GuidList = ()
    notices_per_person_per_hour: int = Field(default=3, ge=1, le=60)
    notices_teams_app_external_id: str | None = Field(default=None, pattern=_GUID)
    notices_mail_sender: str | None = None
    #: No answer this many minutes after a notice: a Sev3 reminder alert (0: never).
    notices_reminder_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)
    graph_endpoint: str = "https://graph.microsoft.com/v1.0"

    @field_validator("demo_now")
    @classmethod
    def _demo_now_is_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _azure_needs_a_workspace(self) -> Settings:
        if self.workspace == "azure" and not self.azure_workspace_id:
            raise ValueError(
                f"{ENV_PREFIX}AZURE_WORKSPACE_ID is required when {ENV_PREFIX}WORKSPACE=azure"
            )
        return self

    @model_validator(mode="after")
    def _slack_needs_its_mode_secret(self) -> Settings:
        if self.slack_bot_token is None:
            return self
        if self.slack_mode == "http" and self.slack_signing_secret is None:
            raise ValueError(
                f"{ENV_PREFIX}SLACK_SIGNING_SECRET is required when {ENV_PREFIX}SLACK_MODE=http"
            )
        if self.slack_mode == "socket" and self.slack_app_token is None:
            raise ValueError(
                f"{ENV_PREFIX}SLACK_APP_TOKEN is required when {ENV_PREFIX}SLACK_MODE=socket"
            )
        return self

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    def demo_anchor(self, *, now: datetime) -> datetime:
        """The demo data's "now": the configured one, else the start of the current hour."""
        if self.demo_now is not None:
            return self.demo_now
        return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bot_identity_problems(settings: Settings) -> list[str]:
    """What the Bot Framework identity lacks for its app type, one line each (checked by
    `serve` only: building the app package, say, needs the app id alone)."""
    app = f"{ENV_PREFIX}MICROSOFT_APP"
    if not settings.microsoft_app_id:
        if settings.microsoft_app_password is not None:
            return [f"{app}_PASSWORD is set but {app}_ID is empty"]
        if not is_loopback(settings.host) and not settings.insecure_unauthenticated_on_network:
            return [
                f"{app}_ID is empty (no authentication) but {ENV_PREFIX}HOST={settings.host} "
                "is not a loopback address: anyone who can reach the port could act as any "
                f"user. Set {app}_ID, or {ENV_PREFIX}HOST=127.0.0.1, or (never in production) "
                f"{ENV_PREFIX}INSECURE_UNAUTHENTICATED_ON_NETWORK=true"
            ]
        return []
    kind, problems = settings.microsoft_app_type, []
    if kind != "UserAssignedMSI" and settings.microsoft_app_password is None:
        problems.append(f"{app}_PASSWORD is required when {app}_TYPE={kind}")
    if kind != "MultiTenant" and not settings.microsoft_app_tenant_id:
        problems.append(f"{app}_TENANT_ID is required when {app}_TYPE={kind}")
    return problems


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(
    env_file: Path | None = Path(".env"), environ: Mapping[str, str] = os.environ
) -> Settings:
    """Read settings; raise ConfigError listing every problem, one per line."""
    problems = _unknown_variables(environ)
    if env_file is not None and env_file.is_file():
        written = [name for name in dotenv_values(env_file) if name not in environ]
        problems += _unknown_variables(written, where=f" in {env_file}")
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as error:
        problems += [_describe(problem) for problem in error.errors()]
    if problems:
        raise ConfigError(problems)
    return settings


def _unknown_variables(names: Iterable[str], *, where: str = "") -> list[str]:
    """A misspelt variable would otherwise be ignored without a word: named as written."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    return [
        f"{name}: unknown setting{where} (see config/example.env)"
        for name in sorted(names)
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    ]


def _describe(problem: ErrorDetails) -> str:
    location = problem["loc"]
    field = str(location[0]) if location else ""
    message = problem["msg"].removeprefix("Value error, ")
    if not field:  # a rule across settings: its message names the variables
        return message
    given = problem.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
    return f"{ENV_PREFIX}{field.upper()}: {message}{shown}"


def evaluation_concurrency(settings: Settings) -> int:
    """How many rule evaluations may wait on the workspace at once: enough to fill every
    request the workspace may have in flight with a full batch (Azure batches them)."""
    batch = settings.azure_batch_size if settings.workspace == "azure" else 1
    return settings.max_concurrent_queries * batch
