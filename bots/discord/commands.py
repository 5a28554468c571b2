"""The `/debate` and `/debate-admin` slash command groups: typed options straight into service calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Choice

from core.models import Poll
from core.scheduler.timing import suggest_timezones
from core.text import clip

if TYPE_CHECKING:
    from bots.discord.client import CounterpointClient

CHOICE_NAME_MAX = 100
CHOICES_MAX = 25


def _matches(current: str, *texts: str) -> bool:
    needle = current.strip().casefold()
    return not needle or any(needle in t.casefold() for t in texts)


class _Bound(app_commands.Group):
    def __init__(self, client: CounterpointClient, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.client = client

    async def _poll_choices(self, interaction: discord.Interaction, current: str,
                            open_only: bool) -> list[Choice[str]]:
        actor = self.client.actor(interaction)
        if actor is None:
            return []
        # The one list the core allows this member to see: never the store's polls directly.
        polls: list[Poll] = await self.client.service.visible_polls(actor, open_only=open_only, limit=CHOICES_MAX)
        choices = []
        for poll in polls:
            prompt = self.client.service.content.prompt(poll.prompt_id)
            name = f"#{poll.id} {prompt.question if prompt else poll.prompt_id}"
            if _matches(current, name):
                choices.append(Choice(name=clip(name, CHOICE_NAME_MAX), value=str(poll.id)))
        return choices[:CHOICES_MAX]


class DebateGroup(_Bound):
    def __init__(self, client: CounterpointClient) -> None:
        super().__init__(client, name="debate", description="Today's debate question, results and your stance",
                         guild_only=True)

    @app_commands.command(name="today", description="Show today's question (posts one if none is open)")
    async def today(self, interaction: discord.Interaction) -> None:
        await self.client.answer(interaction, self.client.service.today, "/debate today")

    @app_commands.command(name="article", description="The article overview, or one section's summary")
    @app_commands.describe(section="Which section to read (leave empty for the overview)")
    async def article(self, interaction: discord.Interaction, section: str | None = None) -> None:
        service = self.client.service
        await self.client.answer(interaction, lambda actor: service.article(actor, section), "/debate article")

    @article.autocomplete("section")
    async def _section_choices(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=clip(s.title, CHOICE_NAME_MAX), value=s.id)
                for s in self.client.service.content.sections if _matches(current, s.id, s.title)][:CHOICES_MAX]

    @app_commands.command(name="results", description="Results of the latest poll here, or of the poll you pick")
    @app_commands.describe(poll="Which poll (leave empty for the latest in this channel)")
    async def results(self, interaction: discord.Interaction, poll: str | None = None) -> None:
        service = self.client.service
        await self.client.answer(interaction, lambda actor: service.results(actor, poll), "/debate results")

    @results.autocomplete("poll")
    async def _results_choices(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return await self._poll_choices(interaction, current, open_only=False)

    @app_commands.command(name="stance", description="Your own votes and lean, shown only to you")
    async def stance(self, interaction: discord.Interaction) -> None:
        await self.client.answer(interaction, self.client.service.stance, "/debate stance")

    @app_commands.command(name="forget-me", description="Erase all your votes in this server")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await self.client.answer(interaction, self.client.service.forget_me, "/debate forget-me")

    @app_commands.command(name="help", description="What Counterpoint does and its commands")
    async def help(self, interaction: discord.Interaction) -> None:
        service = self.client.service
        await self.client.answer(interaction, lambda actor: service.help(actor, admin_command="/debate-admin"),
                                 "/debate help")


class AdminGroup(_Bound):
    schedule = app_commands.Group(name="schedule", description="Post a question every day at a set time")

    def __init__(self, client: CounterpointClient) -> None:
        # default_permissions only hides the group from non-admins by default; servers can change that,
        # so the core still checks Actor.is_admin, which the client takes from the member's permissions.
        super().__init__(client, name="debate-admin", description="Counterpoint tools for server managers",
                         guild_only=True, default_permissions=discord.Permissions(manage_guild=True))

    @app_commands.command(name="post", description="Post a question now (the next in the deck, or one you pick)")
    @app_commands.describe(prompt="Which prompt (leave empty for the next one)")
    async def post(self, interaction: discord.Interaction, prompt: str | None = None) -> None:
        service = self.client.service
        await self.client.answer(interaction, lambda actor: service.post(actor, prompt), "/debate-admin post")

    @post.autocomplete("prompt")
    async def _prompt_choices(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=clip(f"{p.id}: {p.question}", CHOICE_NAME_MAX), value=p.id)
                for p in self.client.service.content.prompts if _matches(current, p.id, p.question)][:CHOICES_MAX]

    @app_commands.command(name="close", description="Close the latest open poll here, or the poll you pick")
    @app_commands.describe(poll="Which open poll (leave empty for the latest)")
    async def close(self, interaction: discord.Interaction, poll: str | None = None) -> None:
        service = self.client.service
        await self.client.answer(interaction, lambda actor: service.close(actor, poll), "/debate-admin close")

    @close.autocomplete("poll")
    async def _close_choices(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return await self._poll_choices(interaction, current, open_only=True)

    @app_commands.command(name="export", description="Aggregate results as CSV (no member data)")
    async def export(self, interaction: discord.Interaction) -> None:
        await self.client.answer(interaction, self.client.service.export, "/debate-admin export")

    @app_commands.command(name="settings", description="Show or change this channel's settings")
    @app_commands.describe(min_votes="Votes needed before results are shown")
    async def settings(self, interaction: discord.Interaction, min_votes: int | None = None) -> None:
        service = self.client.service
        value = None if min_votes is None else str(min_votes)
        await self.client.answer(interaction, lambda actor: service.settings(actor, value), "/debate-admin settings")

    @schedule.command(name="set", description="Set or change this channel's daily question")
    @app_commands.describe(
        time="Time of day, e.g. 09:00 or 9am", tz="Timezone, e.g. Europe/Berlin",
        days="Weekdays, e.g. mon-fri, weekends or daily", duration="How long polls stay open, e.g. 24h or 90m",
        order="Which prompt comes next", results="When results are shown", k="Votes needed before results show",
    )
    @app_commands.choices(
        order=[Choice(name="in the article's order", value="section"),
               Choice(name="shuffled, no repeats until all are used", value="shuffle")],
        results=[Choice(name="live while the poll is open", value="live"),
                 Choice(name="only after the poll closes", value="after-close")],
    )
    async def schedule_set(
        self, interaction: discord.Interaction, time: str | None = None, tz: str | None = None,
        days: str | None = None, duration: str | None = None, order: str | None = None,
        results: str | None = None, k: int | None = None,
    ) -> None:
        given = {"time": time, "tz": tz, "days": days, "duration": duration, "order": order, "results": results,
                 "k": None if k is None else str(k)}
        args = ["set", *(f"{key}={value}" for key, value in given.items() if value is not None)]
        await self._schedule(interaction, args)

    @schedule_set.autocomplete("tz")
    async def _tz_choices(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=name, value=name) for name in suggest_timezones(current, limit=CHOICES_MAX)]

    @schedule.command(name="show", description="When the next daily question comes, and which")
    async def schedule_show(self, interaction: discord.Interaction) -> None:
        await self._schedule(interaction, ["show"])

    @schedule.command(name="off", description="Stop the daily question in this channel")
    async def schedule_off(self, interaction: discord.Interaction) -> None:
        await self._schedule(interaction, ["off"])

    async def _schedule(self, interaction: discord.Interaction, args: list[str]) -> None:
        handler = self.client.schedule
        label = f"/debate-admin schedule {args[0]}"
        if handler is None:
            text = "Scheduling is not available yet: post questions with /debate-admin post for now."
            await self.client.send_text(interaction, text)
            return
        await self.client.answer(interaction, lambda actor: handler(actor, args), label)


def register(client: CounterpointClient, guild: discord.abc.Snowflake | None = None) -> None:
    """Add both groups to the client's tree: to one server while developing, else globally."""
    client.tree.add_command(DebateGroup(client), guild=guild)
    client.tree.add_command(AdminGroup(client), guild=guild)
