"""Chat actions written back to Azure Monitor: Acknowledge -> Acknowledged, Resolve -> Closed.

Follows the Alerts Management REST API, "Alerts - Change State" (api-version 2019-03-01):
`POST {alertId}/changestate?api-version=2019-03-01&newState=New|Acknowledged|Closed`
on Azure Resource Manager, which needs `Microsoft.AlertsManagement/alerts/changestate/action`.

The chat action never waits for it: the action's transaction queues a write-back
(handling.py), and `WritebackWorker` sends the queued ones in the background. Throttling
(429, honouring Retry-After), server errors and timeouts are retried with back-off; a
refusal (401, 403, 404) is final. Either way `on_failure` is told, so people see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from azure.core import AsyncPipelineClient
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, UserAgentPolicy
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest import HttpRequest

from bot.models import Writeback
from bot.store import Store

log = logging.getLogger(__name__)

API_VERSION: Final = "2019-03-01"
ARM_SCOPE: Final = "https://management.azure.com/.default"
MAX_ATTEMPTS: Final = 6
LEASE: Final = timedelta(minutes=2)
_RETRYABLE: Final = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ChangeResult:
    ok: bool
    retryable: bool = False
    retry_after: float | None = None
    message: str = ""


class AlertsManagementClient:
    """`changestate` on one alert, with the configured Azure credential."""

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        endpoint: str = "https://management.azure.com",
        timeout: float = 20.0,
        transport: AsyncHttpTransport[Any, Any] | None = None,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._timeout = timeout
        policies = [
            UserAgentPolicy(sdk_moniker="entra-alertbot"),
            AsyncBearerTokenCredentialPolicy(credential, ARM_SCOPE),
        ]
        options: dict[str, Any] = {"policies": policies}
        if transport is not None:
            options["transport"] = transport
        self._client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(self._endpoint, **options)
        self._plain_http = self._endpoint.lower().startswith("http://")

    async def change_state(self, alert_id: str, new_state: str) -> ChangeResult:
        request = HttpRequest(
            "POST",
            f"{self._endpoint}/{alert_id.lstrip('/')}/changestate",
            params={"api-version": API_VERSION, "newState": new_state},
            headers={"x-ms-client-request-id": str(uuid.uuid4())},
        )
        options = {"enforce_https": False} if self._plain_http else {}
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.send_request(request, **options)
        except TimeoutError:
            return ChangeResult(False, retryable=True, message="Azure did not answer in time")
        except AzureError as error:
            return ChangeResult(False, retryable=True, message=f"request failed: {error.message}")
        if 200 <= response.status_code < 300:
            return ChangeResult(True)
        return ChangeResult(
            False,
            retryable=response.status_code in _RETRYABLE,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            message=_arm_error(response.status_code, response.text()),
        )

    async def close(self) -> None:
        await self._client.close()


WritebackFailed = Callable[[Writeback, str, bool], Awaitable[None]]


class WritebackWorker:
    """Sends queued write-backs: woken after an action, and every `poll` seconds."""

    def __init__(
        self,
        *,
        store: Store,
        client: AlertsManagementClient,
        clock: Callable[[], datetime],
        on_failure: WritebackFailed,
        poll: float = 15.0,
        owner: str | None = None,
    ) -> None:
        self._store, self._client, self._clock = store, client, clock
        self._on_failure = on_failure
        self._poll = poll
        self._owner = owner or f"writeback-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="azure-monitor-writeback")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> int:
        """Send what is due now; the number sent (or given up on)."""
        due = await self._store.claim_writebacks(
            now=self._clock(), owner=self._owner, lease=LEASE, limit=20
        )
        for writeback in due:
            await self._send(writeback)
        return len(due)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # one catch-all per loop: logged, the loop goes on
                log.exception("azure monitor write-back round failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _send(self, writeback: Writeback) -> None:
        result = await self._client.change_state(writeback.external_id, writeback.new_state)
        if result.ok:
            await self._store.finish_writeback(writeback.id, error=None, retry_at=None)
            log.info("alert %d: %s written back to Azure", writeback.alert_id, writeback.new_state)
            return
        retry = result.retryable and writeback.attempts < MAX_ATTEMPTS
        retry_at = (
            self._clock() + _backoff(writeback.attempts, result.retry_after) if retry else None
        )
        await self._store.finish_writeback(writeback.id, error=result.message, retry_at=retry_at)
        log.warning(
            "alert %d: could not set %s in Azure (attempt %d%s): %s",
            writeback.alert_id,
            writeback.new_state,
            writeback.attempts,
            ", retrying" if retry else ", giving up",
            result.message,
        )
        if writeback.attempts == 1 or not retry:
            await self._on_failure(writeback, result.message, retry)


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    seconds = retry_after if retry_after is not None else min(300.0, 5.0 * 2 ** (attempts - 1))
    return timedelta(seconds=seconds)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _arm_error(status: int, body: str) -> str:
    """`403 AuthorizationFailed: ...` from ARM's `{"error": {"code", "message"}}`."""
    try:
        error = json.loads(body).get("error", {})
        return f"{status} {error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return f"Azure answered {status}"
