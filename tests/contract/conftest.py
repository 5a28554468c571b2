"""The `backend` fixture: every contract test runs once per backend in backends.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.store.base import Store
from tests.contract.backends import BACKENDS


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with BACKENDS[request.param](tmp_path) as store:  # type: ignore[attr-defined]
        yield store
