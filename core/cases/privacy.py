"""A member's erasure, the aggregates-only export and the retention purge."""

from __future__ import annotations

from core import overview, presenter
from core.cases.base import ServiceBase
from core.catalogue import t
from core.privacy import retention_cutoff
from core.render import Attachment, Reply
from core.roles import Access
from core.usecase import Actor, answers_errors


class PrivacyCases(ServiceBase):
    @answers_errors
    async def forget_me(self, actor: Actor, confirmed: bool = False) -> Reply:
        if not confirmed:
            return Reply(card=presenter.forget_confirm_card())
        deleted = await self.store.forget_member(actor.space_id, self._key(actor))
        polls = {p.id for p in await self.store.open_polls(actor.space_id)}
        return Reply(text=t("forget.done", n=deleted), refresh_polls=tuple(sorted(polls)))

    @answers_errors
    async def export(self, actor: Actor, what: str | None = None) -> Reply:
        """Aggregate results as CSV; `what="reasons"`: closed polls' reasons instead (core.cases.reasons)."""
        await self.require(actor, Access.FACILITATOR)
        if (what or "").strip().lower() == "reasons":
            return await self.export_reasons(actor)  # type: ignore[attr-defined,no-any-return]
        data = await self.export_csv(actor.space_id, viewer=actor)
        return Reply(text=t("export.done"), attachment=Attachment("counterpoint-results.csv", data))

    async def export_csv(self, space_id: str, viewer: Actor | None = None) -> bytes:
        """Aggregates of the space's polls as the visibility rule shows them (see core.overview)."""
        return await overview.space_csv(self, space_id, viewer)  # type: ignore[arg-type]

    async def purge_expired(self) -> int:
        return await self.store.purge_votes_closed_before(retention_cutoff(self.clock(), self.retention_days))
