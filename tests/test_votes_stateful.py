"""Property-based: random cast/change/retract/forget sequences, with reasons and their marks, against a
simple model of the rules.

Runs on both engines: SQLite (a file per example) and PostgreSQL (a database per example, copied from
a migrated template on the session's throwaway cluster, tests/pg.py).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from core.store.base import Store
from core.store.sqlite import SqliteStore
from tests import pg

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEMBERS = [f"m{i}" for i in range(6)]
OPTIONS = ["-2", "-1", "0", "1", "2"]
POLLS = 2
# Examples per engine. PostgreSQL runs fewer: each step's invariants are ~30 round trips to the server,
# and the whole suite must stay within a few minutes on two cores.
SIZES = {"sqlite": settings(max_examples=40, stateful_step_count=25, deadline=None),
         "postgres": settings(max_examples=20, stateful_step_count=25, deadline=None)}

# A store (not yet open) on a fresh database, and how to remove that database once the store is closed.
Target = tuple[Store, Callable[[], None]]


def sqlite_target() -> Target:
    folder = Path(tempfile.mkdtemp(prefix="cp-stateful-"))
    return SqliteStore(folder / "votes.db"), lambda: shutil.rmtree(folder, ignore_errors=True)


def postgres_target(cluster: pg.Cluster, template: str) -> Target:
    from core.store.postgres import PostgresStore

    name = cluster.create_database(template)
    return PostgresStore(cluster.dsn(name), pool_max=4), lambda: cluster.drop_database(name)


class VoteMachine(RuleBasedStateMachine):
    new_target: Callable[[], Target] = staticmethod(sqlite_target)

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store, self.remove = self.new_target()
        self.run(self.store.open())
        # One open poll per channel: each poll gets its own channel.
        self.polls = [self.run(self.store.create_poll("S1", f"C{i}", "p", T0, T0 + timedelta(days=1))).id
                      for i in range(POLLS)]
        self.current: dict[tuple[int, str], str | None] = {}
        self.first: dict[tuple[int, str], str] = {}
        self.history: dict[tuple[int, str], list[tuple[str, str | None]]] = {}
        self.forgotten: set[str] = set()
        # Reasons (issue 13): (poll, author) -> [option it goes with, text]; marks: (poll, author) -> markers.
        self.reasons: dict[tuple[int, str], list[str]] = {}
        self.marks: dict[tuple[int, str], set[str]] = {}

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.loop.close()
            self.remove()

    def _model_vote(self, poll: int, who: str, option: str | None) -> None:
        key = (poll, who)
        now = self.current.get(key)
        if option is None:
            if now is not None:
                self.current[key] = None
                self.history[key].append(("retract", None))
            return
        if now == option:
            return
        if key not in self.first:
            self.first[key] = option
            self.history[key] = []
        self.history[key].append(("change" if now is not None else "cast", option))
        self.current[key] = option
        self.forgotten.discard(who)

    @rule(poll=st.integers(0, POLLS - 1), who=st.sampled_from(MEMBERS), option=st.sampled_from(OPTIONS))
    def cast(self, poll: int, who: str, option: str) -> None:
        self.run(self.store.record_vote(self.polls[poll], who, option, T0))
        self._model_vote(self.polls[poll], who, option)

    @rule(poll=st.integers(0, POLLS - 1), who=st.sampled_from(MEMBERS))
    def retract(self, poll: int, who: str) -> None:
        self.run(self.store.retract_vote(self.polls[poll], who, T0))
        self._model_vote(self.polls[poll], who, None)

    @rule(ops=st.lists(st.tuples(st.integers(0, POLLS - 1), st.sampled_from(MEMBERS),
                                 st.sampled_from([*OPTIONS, None])), min_size=2, max_size=12))
    def concurrent_burst(self, ops: list[tuple[int, str, str | None]]) -> None:
        """Several members at once: they share one group-commit batch, applied in arrival order."""

        async def burst() -> None:
            calls = [self.store.record_vote(self.polls[p], w, o, T0) if o is not None
                     else self.store.retract_vote(self.polls[p], w, T0) for p, w, o in ops]
            await asyncio.gather(*calls)

        self.run(burst())
        for p, w, o in ops:
            self._model_vote(self.polls[p], w, o)

    @precondition(lambda self: bool(self.first))
    @rule(who=st.sampled_from(MEMBERS))
    def forget(self, who: str) -> None:
        self.run(self.store.forget_member("S1", who))
        for key in [k for k in self.first if k[1] == who]:
            del self.first[key]
            del self.history[key]
            self.current.pop(key, None)
        for key in [k for k in self.reasons if k[1] == who]:  # their reasons, with the marks on them
            del self.reasons[key]
            self.marks.pop(key, None)
        for markers in self.marks.values():
            markers.discard(who)
        self.forgotten.add(who)

    # -- reasons: one per member per poll, with their current choice; marks never on one's own -----------

    def _counts(self, key: tuple[int, str]) -> bool:
        reason = self.reasons.get(key)
        return reason is not None and self.current.get(key) == reason[0]

    @rule(poll=st.integers(0, POLLS - 1), who=st.sampled_from(MEMBERS), text=st.sampled_from(["why", "because"]))
    def give_reason(self, poll: int, who: str, text: str) -> None:
        key = (self.polls[poll], who)
        self.run(self.store.save_reason(key[0], who, text, T0))
        option = self.current.get(key)
        if option is None:
            return  # no vote: nothing saved
        old = self.reasons.get(key)
        if old is None or old[1] != text:
            self.marks[key] = set()  # new words start without marks
        self.reasons[key] = [option, text]

    @rule(poll=st.integers(0, POLLS - 1), who=st.sampled_from(MEMBERS))
    def keep_reason(self, poll: int, who: str) -> None:
        key = (self.polls[poll], who)
        self.run(self.store.keep_reason(key[0], who, T0))
        if key in self.reasons and self.current.get(key) is not None:
            self.reasons[key][0] = self.current[key]  # type: ignore[assignment]

    @precondition(lambda self: bool(self.reasons))
    @rule(data=st.data(), marker=st.sampled_from(MEMBERS), on=st.booleans())
    def mark(self, data: st.DataObject, marker: str, on: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.reasons)))
        mine = self.run(self.store.my_reason(*key))
        assert mine is not None
        if on:
            self.run(self.store.mark_reason(mine.id, marker, T0))
            if self._counts(key) and marker != key[1]:
                self.marks[key].add(marker)
                self.forgotten.discard(marker)
        else:
            self.run(self.store.unmark_reason(mine.id, marker))
            self.marks[key].discard(marker)

    @invariant()
    def reasons_and_marks_count_exactly(self) -> None:
        for poll in self.polls:
            shown = sorted((r.option_id, r.text, r.marks) for r in self.run(self.store.reasons(poll)))
            expected = sorted((r[0], r[1], len(self.marks[k])) for k, r in self.reasons.items()
                              if k[0] == poll and self._counts(k))
            assert shown == expected

    @invariant()
    def one_current_vote_and_totals_match(self) -> None:
        for poll in self.polls:
            tally = self.run(self.store.tally(poll))
            expected = Counter(
                (self.first[k], v) for k, v in self.current.items() if k[0] == poll and v is not None
            )
            assert tally.transitions == dict(expected)
            assert tally.total == sum(1 for k, v in self.current.items() if k[0] == poll and v is not None)
            for who in MEMBERS:
                assert self.run(self.store.current_vote(poll, who)) == self.current.get((poll, who))

    @invariant()
    def history_is_complete(self) -> None:
        for (poll, who), events in self.history.items():
            stored = self.run(self.store.history(poll, who))
            assert [(h.kind, h.option_id) for h in stored] == events

    @invariant()
    def forgotten_members_leave_nothing(self) -> None:
        for who in self.forgotten:
            assert self.run(self.store.stance("S1", who)) == []
            for poll in self.polls:
                assert self.run(self.store.history(poll, who)) == []
                assert self.run(self.store.my_reason(poll, who)) is None
                assert not any(r.marked for r in self.run(self.store.reasons(poll, who)))


@pytest.fixture(scope="module")
def pg_template(pg_cluster: pg.Cluster) -> Iterator[str]:
    """A database migrated once; each example starts from a copy of it (much faster than migrating)."""
    from core.store.postgres import PostgresStore

    name = pg_cluster.create_database(prefix="stateful_template")
    async def migrate() -> None:
        store = PostgresStore(pg_cluster.dsn(name))
        await store.open()
        await store.close()

    asyncio.run(migrate())
    yield name
    pg_cluster.drop_database(name)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_vote_rules(engine: str, request: pytest.FixtureRequest) -> None:
    if engine == "postgres":
        cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
        template: str = request.getfixturevalue("pg_template")
        machine = type("PgVoteMachine", (VoteMachine,),
                       {"new_target": staticmethod(lambda: postgres_target(cluster, template))})
    else:
        machine = VoteMachine
    run_state_machine_as_test(machine, settings=SIZES[engine])
