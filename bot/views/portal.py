"""Deep links into Log Analytics in the Azure portal, with the query and time range. Pure.

The portal's share-link format: the query gzip-compressed and base64-encoded, the
workspace as its ARM resource id, the time range as an ISO 8601 interval.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from bot.views.text import iso

PORTAL: str = "https://portal.azure.com"


@dataclass(frozen=True, slots=True)
class LogAnalyticsTarget:
    """Where the portal should open: the tenant and the workspace's ARM resource id."""

    tenant_id: str
    #: /subscriptions/{id}/resourceGroups/{group}/providers/
    #: Microsoft.OperationalInsights/workspaces/{name}
    resource_id: str


def compress_query(query: str) -> str:
    """The `q` segment: gzip, then base64 (URL-quoted by the caller)."""
    # mtime=0 keeps links for the same query identical.
    return base64.b64encode(gzip.compress(query.encode("utf-8"), mtime=0)).decode("ascii")


def log_analytics_url(
    target: LogAnalyticsTarget, *, query: str, start: datetime, end: datetime
) -> str:
    """A link that opens `query` over [start, end) in the workspace's Logs blade."""
    segments = [
        f"{PORTAL}/#@{quote(target.tenant_id, safe='')}",
        "blade/Microsoft_Azure_Monitoring_Logs/LogsBlade",
        f"resourceId/{quote(target.resource_id, safe='')}",
        "source/LogsBlade.AnalyticsShareLinkToQuery",
        f"q/{quote(compress_query(query), safe='')}",
        f"timespan/{quote(f'{iso(start)}/{iso(end)}', safe='')}",
    ]
    return "/".join(segments)
