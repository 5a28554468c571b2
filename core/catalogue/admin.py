"""Wording facilitators and admins read: posting, asking, settings, roles, channels, the deck."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    "help.post": "post a question now: the next in the deck, or the one whose id you give",
    "help.ask": "ask a question of your own, with 2 to 5 options separated by | or none for the scale",
    "help.close": "close the latest open poll here, or poll N",
    "help.deck": "the next questions of this channel's deck, and when it starts over",
    "help.export": "aggregate results as CSV (no member data)",
    "help.settings": "show or change this channel's settings: threshold, results mode, duration, who may post",
    "help.schedule.set": "post a question every day at a set time (time, tz and days, optionally more)",
    "help.schedule.show": "when the next daily question comes, and which",
    "help.schedule.off": "stop the daily question in this channel",
    "help.channels": "keep the bot to chosen channels, or let it work in every channel again",
    "help.facilitators": "name who runs the debate: roles on Discord, members on Slack",
    "post.done": "Posted poll #{poll_id}.",
    "post.no_prompt": "There is no question '{ref}'. {deck} lists the next ones with their ids.",
    "post.still_open": "Poll #{poll_id} is still open in this channel. Close it first with {close}, then post.",
    "ask.no_question": "Type the question, e.g. {ask}. Without options, members answer on the scale.",
    "ask.question_long": "The question is {length} characters; keep it to {limit}.",
    "ask.option_count": "Give 2 to {most} options separated by |, or none to use the scale.",
    "ask.option_long": "Each option can be at most {limit} characters.",
    "ask.option_twice": "Two options have the same text; make each one different.",
    "close.already": "Poll #{poll_id} is already closed.",
    "close.done": "Closed poll #{poll_id}.",
    "export.done": "Aggregate results as CSV. It holds counts only, never who voted.",
    "deck.title": "The deck in this channel",
    "deck.position": "{used} of {size} questions used in this round; {left} to go.",
    "deck.wraps": "After the next question the deck starts again from the top.",
    "deck.last_of_round": "This was the last unused question of the deck ({size}); the next one starts it over.",
    "deck.next": "Coming next",
    "deck.footer": "Post one now with {post}.",
    "duration.bad": "'{text}' is not a duration: use minutes, hours or days, e.g. 90m, 24h or 2d.",
    "duration.range": "A poll stays open between 10 minutes and 7 days.",
    "settings.title": "Settings for this channel:",
    "settings.saved": "Saved. Settings for this channel:",
    "settings.k": "• Results show from {k} votes (k).",
    "settings.live": "• Results show live while the poll is open.",
    "settings.after_close": "• Results show only once the poll closes.",
    "settings.duration": "• Polls stay open {duration}.",
    "settings.members_post_on": "• Any member may open the day's poll.",
    "settings.members_post_off": "• Only facilitators open the day's poll; members see it once it is open.",
    "settings.change": "Change any of them with {change} (k from {floor} to {most}).",
    "settings.bad_results": "results must be 'live' or 'after-close', got '{value}'.",
    "settings.bad_switch": "{name} must be on or off, got '{value}'.",
    "settings.announce_raised": ("A facilitator raised this channel's results threshold from {old} to {new} votes. "
                                 "Open polls follow it now."),
    "settings.announce_lowered": ("A facilitator lowered this channel's results threshold from {old} to {new} "
                                  "votes. It applies from the next poll; open polls keep their stricter threshold."),
    "settings.announce_after_close": ("Results in this channel now show only once a poll closes, open polls "
                                      "included."),
    "settings.announce_live": ("Results in this channel will show live from the next poll; open polls keep "
                               "showing them after close."),
    "roles.bad_subject": "'{value}' is not a member, role or channel. Mention it, e.g. @name or #channel.",
    "roles.none": "nobody yet (admins always are)",
    "roles.list": "Facilitators here: {names}. Admins always are. Change with {change} or remove=@….",
    "roles.list_discord": ("Facilitator roles here: {names}. Members with Manage Server always are. Change with "
                           "{change} or remove:@…."),
    "channels.every": "Counterpoint works in every channel it is in. Keep it to some with {change}.",
    "channels.list": "Counterpoint works only in {channels}. Change with {change}, or {every} for every channel.",
}
