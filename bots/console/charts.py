"""Charts in the console: written as PNG files into a directory the console names, their paths printed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bots.console.port import ConsolePort
from core.catalogue import t
from core.models import Poll
from core.render import Attachment, Card

log = logging.getLogger(__name__)
CHART_DIR = Path("counterpoint-charts")


def save_chart(image: Attachment, directory: Path) -> str:
    """Write the chart and say where; a directory that cannot be written is said, not raised."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / Path(image.filename).name  # the name is ours, but never a path out of the directory
        path.write_bytes(image.content)
    except OSError as exc:
        log.warning("a chart could not be written: %s", exc)
        return t("charts.console.not_saved", directory=directory, error=exc.strerror or exc)
    return t("charts.console.saved", path=path)


class ChartingConsolePort(ConsolePort):
    """The console's scheduler port, writing each outcome's chart beside printing the outcome."""

    def __init__(self, say: Callable[[str], None], on_poll: Callable[[Card], None], directory: Path) -> None:
        super().__init__(say, on_poll)
        self._directory = directory

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        await super().post_outcome(poll, card)
        if card.image is not None:
            self._say(save_chart(card.image, self._directory))
