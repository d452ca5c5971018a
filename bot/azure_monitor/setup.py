"""Azure Monitor in the running bot: the webhook's endpoint and the write-back worker.

`azure_monitor_ctx` is one of the app's cleanup contexts (bot.app): off unless a webhook
secret or a secure-webhook audience is set. It teaches the RuleBook the rules of the
Azure alerts already stored (so their cards and commands show them after a restart),
builds the intake behind POST /api/azure-monitor, and, with write-back on, the worker
that sets the Azure alert's state after an Acknowledge or Resolve in chat.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from azure.core.credentials_async import AsyncTokenCredential

from bot.alerts.intake import ExternalIntake
from bot.alerts.rule_model import Rule
from bot.azure_monitor.entra_token import EntraTokenValidator
from bot.azure_monitor.webhook import ENDPOINT, AzureMonitorEndpoint
from bot.azure_monitor.writeback import AlertsManagementClient, WritebackWorker
from bot.models import AuditEntry, Writeback
from bot.settings import Settings
from bot.store import Store
from bot.web import CLOCK, DISPATCHER, RULES, SETTINGS, STORE

log = logging.getLogger(__name__)

WRITEBACK = web.AppKey("azure_monitor_writeback", WritebackWorker)
#: The credential for write-back; set before start-up to replace the configured one (tests).
ARM_CREDENTIAL: web.AppKey[AsyncTokenCredential] = web.AppKey("azure_monitor_arm_credential")


def enabled(settings: Settings) -> bool:
    return bool(settings.azure_monitor_webhook_secret or settings.azure_monitor_audience)


async def azure_monitor_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, store = app[SETTINGS], app[STORE]
    if not enabled(settings):
        yield
        return
    book = app[RULES]
    for definition in await store.list_external_rules():
        book.add_external(Rule.model_validate(definition))
    tokens = _validator(settings)
    secret = settings.azure_monitor_webhook_secret
    app[ENDPOINT] = AzureMonitorEndpoint(
        intake=ExternalIntake(
            store=store, on_rule=book.add_external, on_enqueued=app[DISPATCHER].wake
        ),
        clock=app[CLOCK],
        secret=secret.get_secret_value() if secret else None,
        tokens=tokens,
    )
    log.info(
        "Azure Monitor alerts accepted at /api/azure-monitor (%s)",
        " and ".join(k for k, on in (("secret", secret), ("secure webhook", tokens)) if on),
    )
    async with _WriteBack(app, settings, store):
        yield


def _validator(settings: Settings) -> EntraTokenValidator | None:
    if not settings.azure_monitor_audience or not settings.azure_monitor_tenant_id:
        return None
    return EntraTokenValidator(
        tenant_id=settings.azure_monitor_tenant_id,
        audience=settings.azure_monitor_audience,
        authority=settings.azure_monitor_authority,
    )


class _WriteBack:
    """The write-back worker for as long as the app runs (nothing when write-back is off)."""

    def __init__(self, app: web.Application, settings: Settings, store: Store) -> None:
        self._app, self._settings, self._store = app, settings, store
        self._worker: WritebackWorker | None = None
        self._client: AlertsManagementClient | None = None
        self._credential: object | None = None

    async def __aenter__(self) -> None:
        if not self._settings.azure_monitor_writeback:
            return
        credential = self._app.get(ARM_CREDENTIAL)
        if credential is None:
            from bot.workspace.azure import build_credential

            credential = build_credential(
                self._settings.azure_credential, self._settings.azure_managed_identity_client_id
            )
            self._credential = credential
        self._client = AlertsManagementClient(
            credential, endpoint=self._settings.azure_monitor_arm_endpoint
        )
        self._worker = WritebackWorker(
            store=self._store,
            client=self._client,
            clock=self._app[CLOCK],
            on_failure=self._failed,
        )
        self._app[WRITEBACK] = self._worker
        self._worker.start()

    async def __aexit__(self, *exc: object) -> None:
        if self._worker is not None:
            await self._worker.stop()
        if self._client is not None:
            await self._client.close()
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()

    async def _failed(self, writeback: Writeback, message: str, retrying: bool) -> None:
        await self._store.append_audit(
            AuditEntry(
                at=self._app[CLOCK](),
                actor="azure-monitor",
                action="writeback_failed",
                alert_id=writeback.alert_id,
                detail=f"{writeback.new_state}: {message}" + (" (retrying)" if retrying else ""),
            )
        )
