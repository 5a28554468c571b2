"""Member use cases that only read: the article, results, a member's stance, their overview."""

from __future__ import annotations

from core import overview, presenter
from core.cases.base import ServiceBase
from core.catalogue import t
from core.models import StanceEntry
from core.render import Reply
from core.usecase import Actor, Home, UserError, answers_errors


class ReadingCases(ServiceBase):
    @answers_errors
    async def article(self, actor: Actor, section_ref: str | None = None) -> Reply:
        if not section_ref:
            return Reply(card=presenter.article_card(self.content.article, self.content.sections,
                                                     self.cmd(actor, "article", section="SECTION")))
        section = self.content.section(section_ref.strip().lower())
        if section is None:
            known = ", ".join(s.id for s in self.content.sections)
            raise UserError(t("article.no_section", ref=section_ref[:40], known=known))
        return Reply(card=presenter.section_card(section, self.content.article))

    @answers_errors
    async def results(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        poll = await self._pick_poll(actor, poll_ref)
        results = await self.results_for(poll)
        section = self.content.section(results.prompt.section_id)
        card = (presenter.outcome_card(results, section, self.content.axis) if not poll.is_open(self.clock())
                else presenter.results_so_far_card(results, self.content.axis))
        return Reply(card=card)

    @answers_errors
    async def stance(self, actor: Actor) -> Reply:
        entries: list[StanceEntry] = []
        for poll, option_id in await self.store.stance(actor.space_id, self._key(actor)):
            prompt = await self.find_prompt(poll.prompt_id)
            option = prompt.option(option_id) if prompt else None
            if prompt and option:
                entries.append(StanceEntry(poll, prompt, option))
        return Reply(card=presenter.stance_card(entries, self.content.axis, self.cmd(actor, "forget-me")))

    async def home(self, actor: Actor) -> Home:
        """The member's overview, with only polls of channels they can see (see core.overview)."""
        return await overview.home(self, actor)  # type: ignore[arg-type]  # the whole service, at run time
