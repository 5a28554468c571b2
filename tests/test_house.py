"""The house rules that keep Counterpoint easy to change, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = [p for d in ("core", "bots") for p in sorted((ROOT / d).rglob("*.py"))]
MAX_LINES = 400
# Where members' wording must come from the catalogue: the use cases, the scheduler and the chat adapters.
# The command line (bots/cli.py, bots/discord/cli.py) speaks to operators on stderr and is left out.
WORDING_SCOPE = [p for p in PRODUCT
                 if p.relative_to(ROOT).parts[:2] in {("core", "cases"), ("core", "scheduler"), ("bots", "slack"),
                                                      ("bots", "discord"), ("bots", "console")}
                 or p.relative_to(ROOT).as_posix() in {"core/service.py", "core/overview.py", "core/usecase.py",
                                                       "core/commands/router.py"}]
# Operator-facing modules: start-up errors, HTTP 400 reasons for Slack's servers, connection states.
OPERATOR_MODULES = {"cli.py", "runner.py", "gate.py", "server.py", "http_guard.py", "errors.py"}
WORDING_SCOPE = [p for p in WORDING_SCOPE if p.name not in OPERATOR_MODULES]
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _is_sentence(text: str) -> bool:
    """English a person would read: at least three words with letters (identifiers and formats are not)."""
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    return len(words) >= 3 and not text.strip().startswith(("%", "{", "<", "/", "cp1"))


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.skip: set[int] = set()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        # Log lines are for operators; `t(...)` keys and catalogue lookups are the point.
        if name in LOG_METHODS or name in {"t", "getLogger", "count", "ActionError", "StoreError", "KeyError",
                                           "ValueError", "TypeError", "RuntimeError", "AssertionError"}:
            for sub in ast.walk(node):
                self.skip.add(id(sub))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) not in self.skip and isinstance(node.value, str) and _is_sentence(node.value):
            self.found.append((node.lineno, node.value[:60]))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    finder = _Finder()
    finder.skip |= _docstrings(tree)
    for node in ast.walk(tree):  # assert messages are for developers
        if isinstance(node, ast.Assert):
            for sub in ast.walk(node):
                finder.skip.add(id(sub))
    finder.visit(tree)
    return finder.found


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_product_files_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job (max {MAX_LINES})"


def test_no_member_wording_outside_the_catalogue() -> None:
    """Issue 10: every sentence members read comes from core/catalogue, ready for a second language."""
    found = {p.relative_to(ROOT).as_posix(): hits for p in WORDING_SCOPE if (hits := literals(p))}
    assert found == {}, "English outside the catalogue (use core.catalogue.t):\n" + "\n".join(
        f"  {path}:{line}: {text!r}" for path, hits in found.items() for line, text in hits)


def test_the_finder_sees_a_sentence() -> None:
    """The wording check above is only worth something if it catches an inline sentence."""
    sample = ROOT / "tests" / "_wording_sample.py"
    sample.write_text('def f():\n    """A docstring is fine."""\n    log.info("a log line is fine too")\n'
                      '    return Reply(text="This sentence belongs in the catalogue.")\n', encoding="utf-8")
    try:
        assert [text for _, text in literals(sample)] == ["This sentence belongs in the catalogue."]
    finally:
        sample.unlink()


def test_adapters_never_reach_into_the_store() -> None:
    """Issue 11: adapters use the service's public methods, so store rules cannot be bypassed."""
    offenders = [p.relative_to(ROOT).as_posix() for p in PRODUCT
                 if p.relative_to(ROOT).parts[0] == "bots" and "service.store" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_library_loggers_follow_a_stricter_log_level() -> None:
    """Operator finding: with LOG_LEVEL=ERROR the chat libraries still printed their INFO lines."""
    import logging

    from bots.logsafety import LIBRARY_LOGGERS, configure_logging

    root = logging.getLogger()
    before = root.level, {n: logging.getLogger(n).level for n in LIBRARY_LOGGERS}
    try:
        configure_logging("ERROR")
        assert all(logging.getLogger(n).getEffectiveLevel() >= logging.ERROR for n in LIBRARY_LOGGERS)
        configure_logging("DEBUG")  # never their DEBUG: payloads and tokens live there
        assert all(logging.getLogger(n).getEffectiveLevel() >= logging.INFO for n in LIBRARY_LOGGERS)
    finally:
        root.setLevel(before[0])
        for name, level in before[1].items():
            logging.getLogger(name).setLevel(level)
