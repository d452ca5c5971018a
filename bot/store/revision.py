"""Whether a database is at the newest schema revision, found without importing Alembic.

Alembic and its machinery cost about 11 MB and 0.3-0.5 s to import at every start, while a
bot restarting on a database already at the newest revision needs none of it. `head()`
reads the revision ids from the migration files' `revision` / `down_revision` lines (a
test keeps it equal to Alembic's own head); `at_head(engine)` compares the database's
`alembic_version`. Anything unclear (several heads, an unreadable file, no version table
yet) answers False, and the caller migrates with Alembic as before.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

VERSIONS: Final = Path(__file__).parent / "migrations" / "versions"
_REVISION: Final = re.compile(r"^revision(?::\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN: Final = re.compile(
    r"^down_revision(?::[^=\n]+)?\s*=\s*(?:[\"']([^\"']+)[\"']|None)\s*$", re.M
)


@cache
def head() -> str | None:
    """The one revision no other revision revises, or None when that is not clear."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for file in VERSIONS.glob("*.py"):
        source = file.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1):
            revised.add(down.group(1))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """The database's recorded revision is the newest one."""
    newest = head()
    if newest is None:
        return False
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return list(found.scalars()) == [newest]
    except ProgrammingError:  # PostgreSQL: no version table yet
        return False
    except OperationalError as error:  # SQLite says so with this error, as it says others
        if "no such table" in str(error):
            return False
        raise
