"""Results of a poll from its tally: counts, shares, mean lean and opinion shift."""

from __future__ import annotations

from core.models import OptionResult, Poll, Prompt, Results, Tally


def _mean(counts: dict[str, int], prompt: Prompt) -> float | None:
    if not prompt.uses_scale:
        return None
    total = 0
    weighted = 0
    for option in prompt.options:
        n = counts.get(option.id, 0)
        total += n
        weighted += n * (option.lean or 0)
    return weighted / total if total else None


def compute_results(poll: Poll, prompt: Prompt, tally: Tally) -> Results:
    """Every figure, unredacted. Only core.visibility calls this; outputs use its redacted copy."""
    current = tally.current_counts()
    first = tally.first_counts()
    total = tally.total
    options = tuple(
        OptionResult(
            option=o,
            count=current.get(o.id, 0),
            share=(current.get(o.id, 0) / total) if total else 0.0,
            first_count=first.get(o.id, 0),
        )
        for o in prompt.options
    )
    to_privacy = to_security = 0
    if prompt.uses_scale:
        lean = {o.id: o.lean or 0 for o in prompt.options}
        for (was, now), n in tally.transitions.items():
            if was in lean and now in lean:
                if lean[now] > lean[was]:
                    to_privacy += n
                elif lean[now] < lean[was]:
                    to_security += n
    return Results(
        poll=poll,
        prompt=prompt,
        total=total,
        options=options,
        visible=True,
        votes_needed=0,
        mean_lean=_mean(current, prompt),
        first_mean_lean=_mean(first, prompt),
        changed=tally.changed(),
        moved_to_privacy=to_privacy,
        moved_to_security=to_security,
    )
