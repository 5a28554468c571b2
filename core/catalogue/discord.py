"""Wording of the discord area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    # bots/discord/embeds.py: the renderer's own words around the core's cards.
    "discord.render.results": "Results",
    "discord.render.summary": "Summary",
    "discord.render.done": "Done.",
}

# bots/discord/client.py, tree.py and forms.py: the command tree, its forms and the adapter's own answers
# (the command-tree helper's block; descriptions stay within Discord's 100 characters, labels within 45).
MESSAGES.update({
    "discord.outside_server": ("Counterpoint works in server channels. Use this command in a channel of a server "
                               "the bot is in."),
    "discord.broke": ("Sorry, something went wrong on our side while handling that. It was logged; please try again "
                      "in a moment."),
    "discord.cannot_post": ("I could not post the poll in this channel. Give the bot View Channel, Send Messages and "
                            "Embed Links here (or ask a server admin to), then try again."),
    "discord.post_failed": ("Discord did not take the poll message, so no poll was opened. Please try again in a "
                            "moment."),
    "discord.out_of_date": "This command is out of date. Discord may take a minute to show the current ones.",
    "discord.group.debate": "Today's debate question, results and your stance",
    "discord.group.debate-admin": "Run the debate: post, ask, close, settings, schedules (facilitators and admins)",
    "discord.group.schedule": "Post a question every day at a set time",
    # Option descriptions: `discord.arg.<command>.<arg>` where one name means different things, else by name.
    "discord.arg.section": "Which section to read (leave empty for the overview)",
    "discord.arg.poll": "Which poll (leave empty for the latest in this channel)",
    "discord.arg.close.poll": "Which open poll (leave empty for the latest)",
    "discord.arg.prompt": "Which question of the deck (leave empty for the next one)",
    "discord.arg.question": "Your question (leave all options empty to type it in a form)",
    "discord.arg.options": "2 to 5 answers separated by | (leave empty for the scale)",
    "discord.arg.k": "Votes needed before results are shown",
    "discord.arg.results": "When results are shown",
    "discord.arg.duration": "How long polls stay open, e.g. 24h or 90m",
    "discord.arg.members-post": "Whether any member may open the day's poll (else facilitators only)",
    "discord.arg.time": "Time of day, e.g. 09:00 or 9am",
    "discord.arg.tz": "Timezone, e.g. Europe/Berlin",
    "discord.arg.days": "Weekdays, e.g. mon-fri, weekends or daily",
    "discord.arg.order": "Which question comes next",
    "discord.arg.channels.add": "A channel Counterpoint should work in",
    "discord.arg.channels.remove": "A channel Counterpoint should no longer work in",
    "discord.arg.all": "on: work in every channel again",
    "discord.arg.facilitators.add": "A role whose members become facilitators",
    "discord.arg.facilitators.remove": "A role that should no longer make its members facilitators",
    # Choice names (`discord.choice.<arg>.<value>`); a choice without one shows its value.
    "discord.choice.results.live": "live while the poll is open",
    "discord.choice.results.after-close": "only after the poll closes",
    "discord.choice.order.section": "in the article's order",
    "discord.choice.order.shuffle": "shuffled, no repeats until all are used",
    "discord.choice.members-post.on": "on: any member may open the day's poll",
    "discord.choice.members-post.off": "off: only facilitators open it",
    "discord.choice.all.on": "on: every channel",
    # The `ask` form (a modal): title and labels at most 45 characters, placeholders 100.
    "discord.form.ask.title": "Ask your own question",
    "discord.form.ask.question": "Question",
    "discord.form.ask.question.placeholder": "What should members take a stand on?",
    "discord.form.ask.options": "Options, one per line (optional)",
    "discord.form.ask.options.placeholder": "2 to 5 answers, one per line. Leave empty for the scale.",
    "discord.form.gone": "That form is out of date. Run the command again.",
})
