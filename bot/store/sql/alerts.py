"""Alerts, the engine's memory between evaluations (dimension states, rule health), and mutes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from bot.models import AlertInstance, AlertStatus, DimensionState, Mute, RuleHealth
from bot.store.base import AlertOperations, ConflictError, MuteOperations, StoreError
from bot.store.schema import (
    AlertRow,
    CounterRow,
    DimensionStateRow,
    MuteRow,
    RuleHealthRow,
    alert_values,
    dimension_state_values,
    mute_values,
    rule_health_values,
)
from bot.store.sql._common import NO_SYNC, SqlBase, refused

_ALERT_COUNTER = "alert"


class AlertSql(SqlBase, AlertOperations, MuteOperations):
    """Alerts (versioned), dimension states, rule health and mutes."""

    async def next_alert_id(self) -> int:
        # Above the counter and above every stored id, so that alerts numbered elsewhere
        # (an engine's own counter, an import) are never handed out again.
        above_stored = select(func.coalesce(func.max(AlertRow.id), 0) + 1).scalar_subquery()
        greater = func.greatest if self._dialect == "postgresql" else func.max
        statement = (
            self._insert(CounterRow)
            .values(name=_ALERT_COUNTER, value=above_stored)
            .on_conflict_do_update(
                index_elements=[CounterRow.name],
                set_={"value": greater(CounterRow.value + 1, above_stored)},
            )
            .returning(CounterRow.value)
        )
        async with self._scope() as session:
            value: int = (await session.execute(statement)).scalar_one()
            return value

    async def last_alert_id(self) -> int:
        counter = select(CounterRow.value).where(CounterRow.name == _ALERT_COUNTER)
        async with self._reads() as session:
            handed_out = await session.scalar(counter)
            stored = await session.scalar(select(func.max(AlertRow.id)))
        return max(handed_out or 0, stored or 0)

    async def get_alert(self, alert_id: int) -> AlertInstance | None:
        async with self._reads() as session:
            row = await session.get(AlertRow, alert_id, populate_existing=True)
            return row.to_model() if row else None

    async def get_alerts(self, alert_ids: Sequence[int]) -> dict[int, AlertInstance]:
        statement = select(AlertRow).where(AlertRow.id.in_(sorted(set(alert_ids))))
        return {row.id: row.to_model() for row in await self._all(statement)}

    async def list_alerts(
        self, *, open_only: bool = True, rule_id: str | None = None, limit: int | None = None
    ) -> list[AlertInstance]:
        statement = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        if open_only:
            statement = statement.where(AlertRow.status != AlertStatus.RESOLVED.value)
        if rule_id is not None:
            statement = statement.where(AlertRow.rule_id == rule_id)
        return [row.to_model() for row in await self._all(statement)]

    async def save_alert(self, alert: AlertInstance) -> AlertInstance:
        values = {**alert_values(alert), "version": alert.version + 1}
        with refused(f"alert {alert.id} exists, or its fingerprint already has an open alert"):
            async with self._scope() as session:
                if alert.version == 0:
                    await session.execute(insert(AlertRow).values(values))
                else:
                    statement = (
                        update(AlertRow)
                        .where(AlertRow.id == alert.id, AlertRow.version == alert.version)
                        .values(values)
                        .returning(AlertRow.id)
                    )
                    if await session.scalar(statement, execution_options=NO_SYNC) is None:
                        raise ConflictError(f"alert {alert.id} was changed by someone else")
        return alert.model_copy(update={"version": alert.version + 1})

    async def list_dimension_states(self, rule_id: str) -> list[DimensionState]:
        statement = (
            select(DimensionStateRow)
            .where(DimensionStateRow.rule_id == rule_id)
            .order_by(DimensionStateRow.fingerprint)
        )
        return [row.to_model() for row in await self._all(statement)]

    async def replace_dimension_states(
        self, rule_id: str, states: Sequence[DimensionState]
    ) -> None:
        if any(state.rule_id != rule_id for state in states):
            raise ValueError(f"dimension states of another rule than {rule_id!r}")
        async with self._scope() as session:
            await session.execute(
                delete(DimensionStateRow).where(DimensionStateRow.rule_id == rule_id),
                execution_options=NO_SYNC,
            )
            if states:
                rows = [dimension_state_values(state) for state in states]
                await session.execute(insert(DimensionStateRow), rows)

    async def get_rule_health(self, rule_id: str) -> RuleHealth | None:
        async with self._reads() as session:
            row = await session.get(RuleHealthRow, rule_id, populate_existing=True)
            return row.to_model() if row else None

    async def list_rule_health(self) -> list[RuleHealth]:
        rows = await self._all(select(RuleHealthRow).order_by(RuleHealthRow.rule_id))
        return [row.to_model() for row in rows]

    async def save_rule_health(self, health: RuleHealth) -> None:
        values = rule_health_values(health)
        statement = self._insert(RuleHealthRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[RuleHealthRow.rule_id],
            set_={name: statement.excluded[name] for name in values if name != "rule_id"},
        )
        async with self._scope() as session:
            await session.execute(statement)

    # --- mutes ----------------------------------------------------------------------

    async def add_mute(self, mute: Mute) -> Mute:
        statement = insert(MuteRow).values(mute_values(mute)).returning(MuteRow.id)
        with refused(f"no alert {mute.alert_id} to mute", StoreError):
            async with self._scope() as session:
                mute_id = (await session.execute(statement)).scalar_one()
        return mute.model_copy(update={"id": mute_id})

    async def list_mutes(self, *, now: datetime, rule_id: str | None = None) -> list[Mute]:
        statement = select(MuteRow).where(MuteRow.until > now).order_by(MuteRow.id)
        if rule_id is not None:
            statement = statement.where(MuteRow.rule_id == rule_id)
        return [row.to_model() for row in await self._all(statement)]

    async def delete_mute(self, mute_id: int) -> bool:
        statement = delete(MuteRow).where(MuteRow.id == mute_id).returning(MuteRow.id)
        return await self._changed(statement)

    async def expire_mutes(self, *, now: datetime) -> list[Mute]:
        statement = delete(MuteRow).where(MuteRow.until <= now).returning(MuteRow)
        async with self._scope() as session:
            rows = await session.scalars(statement, execution_options=NO_SYNC)
            return sorted((row.to_model() for row in rows), key=lambda mute: mute.id)
