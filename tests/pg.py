"""A throwaway PostgreSQL 15 cluster for one test session, and a fresh database per test.

The cluster lives in a private temporary directory (in /dev/shm when the machine has it, else the
temp dir; COUNTERPOINT_PG_TMP chooses another), listens on 127.0.0.1 on a free port (its unix
socket sits in that directory, so it never meets a system cluster), and is stopped and removed when
the session ends: `atexit` covers normal ends and Ctrl-C, SIGTERM is turned into a normal exit, and a
cluster left behind by a killed run (its owner process gone) is swept away by the next start.

Settings trade durability for speed because the data is thrown away: fsync=off,
full_page_writes=off and wal_level=minimal would lose data on a power cut, which cannot matter here.
synchronous_commit keeps its default (on), so a store's commits wait as they would in production.

The test role logs in with a generated password over TCP (scram-sha-256), as the bot would; the
superuser is reached only through the private unix socket (trust), for creating databases.

Tests get a database each, copied from a template with CREATE DATABASE ... TEMPLATE (a file copy of a
few MB, much faster than running migrations again), so no test sees another's rows.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("COUNTERPOINT_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROLE = "counterpoint"
_PREFIX = "counterpoint-pg-"
_OWNER_FILE = "owner.pid"


class PgUnavailable(RuntimeError):
    """No PostgreSQL 15 server can be started here (not installed, or it refused to start)."""


def missing_reason() -> str | None:
    """Why PostgreSQL tests cannot run on this machine, or None when the server is installed."""
    needed = [PG_BIN / name for name in ("initdb", "pg_ctl", "postgres", "psql")]
    if all(path.is_file() and os.access(path, os.X_OK) for path in needed):
        return None
    return (f"PostgreSQL 15 server not found at {PG_BIN}; install postgresql-15 "
            "or set CI=true to require it")


def required() -> bool:
    """CI=true turns every 'PostgreSQL is not here' skip into a failure."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _base_dir() -> Path:
    """Where clusters live: memory (/dev/shm) when there is one, since every test copies a database."""
    chosen = os.environ.get("COUNTERPOINT_PG_TMP")
    if chosen:
        return Path(chosen)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path(tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs server programs, and the uid that must own the data directory.

    initdb and postgres refuse to run as root, so root runs them as the `postgres` user; anyone else
    runs them as themselves.
    """
    if os.geteuid() != 0:
        return [], None
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError as exc:
        raise PgUnavailable("running as root, but there is no 'postgres' user to run the server as") from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("running as root, but runuser is missing (it runs the server as 'postgres')")
    return [runuser, "-u", "postgres", "--"], uid


def _run(cmd: list[str], what: str, timeout: float = 60) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PgUnavailable(f"{what} failed (exit {done.returncode}): {' | '.join(detail)}")
    return done.stdout


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Cluster:
    """One running throwaway cluster; `dsn(db)` is how tests connect (as the test role, over TCP)."""

    def __init__(self, root: Path, port: int, password: str, as_server: list[str]) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.password = password
        self._as_server = as_server
        self._counter = 0
        self._lock = threading.Lock()
        self._stopped = False

    def dsn(self, database: str) -> str:
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement as the superuser over the private socket; its output, unaligned."""
        return _run(
            [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.root),
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement],
            f"psql {statement.split()[0]} {statement.split()[1] if ' ' in statement else ''}".strip(),
        )

    def _new_name(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter}"

    def create_database(self, template: str | None = None, prefix: str = "t") -> str:
        """A new empty database (or a copy of `template`) owned by the test role; returns its name."""
        name = self._new_name(prefix)
        source = template or "template1"
        # A copy needs the template to have no sessions: a store that was just closed may still be
        # disconnecting, so any left are ended first.
        if template is not None:
            self.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{template}' "
                     "AND pid <> pg_backend_pid()")
        self.sql(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(source)} OWNER {ROLE} "
                 "STRATEGY FILE_COPY")
        return name

    def drop_database(self, name: str) -> None:
        # FORCE ends sessions a failed test left open, so one failure never cascades into the next test.
        self.sql(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once and delete its files; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        _stop_and_remove(self.root, self._as_server)


def _stop_and_remove(root: Path, as_server: list[str]) -> None:
    data = root / "data"
    if (data / "postmaster.pid").exists():
        # immediate: nothing here is worth a clean shutdown checkpoint
        subprocess.run([*as_server, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30",
                        "stop"], capture_output=True, timeout=60, check=False)
    shutil.rmtree(root, ignore_errors=True)


def _sweep_abandoned(as_server: list[str]) -> None:
    """Remove clusters of earlier runs that were killed before they could clean up."""
    for root in _base_dir().glob(f"{_PREFIX}*"):
        try:
            owner = int((root / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
            continue  # still running: another session's cluster
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        _stop_and_remove(root, as_server)


def start_cluster(attempts: int = 3) -> Cluster:
    """Create and start a cluster; PgUnavailable (with the reason) if that is not possible."""
    reason = missing_reason()
    if reason is not None:
        raise PgUnavailable(reason)
    as_server, uid = _as_server_user()
    _sweep_abandoned(as_server)
    root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=_base_dir()))
    try:
        (root / _OWNER_FILE).write_text(str(os.getpid()))
        if uid is not None:
            os.chown(root, uid, -1)
        os.chmod(root, 0o700)
        password = secrets.token_hex(16)
        pwfile = root / "pw"
        pwfile.write_text(secrets.token_hex(16) + "\n")  # the superuser's, never used: it logs in by socket
        if uid is not None:
            os.chown(pwfile, uid, -1)
        _run([*as_server, str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", "postgres", "--pwfile", str(pwfile),
              "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
              "--no-instructions"], "initdb", timeout=120)
        cluster: Cluster | None = None
        for attempt in range(attempts):
            port = _free_port()
            options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=128MB "
                       "-c max_connections=200 -c shared_buffers=32MB")
            try:
                _run([*as_server, str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"),
                      "-o", options, "-w", "-t", "60", "start"], "pg_ctl start", timeout=90)
            except PgUnavailable:
                if attempt == attempts - 1:  # the free port was taken meanwhile, most likely: try another
                    raise
                continue
            cluster = Cluster(root, port, password, as_server)
            break
        assert cluster is not None
        cluster.sql(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{password}'")
        return cluster
    except BaseException:
        _stop_and_remove(root, as_server)
        raise


# -- the session's one cluster ----------------------------------------------------------------------

_session: Cluster | None = None
_session_error: PgUnavailable | None = None
_session_lock = threading.Lock()


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # runs `finally` blocks and atexit, so the cluster is removed


def session_cluster() -> Cluster:
    """The cluster shared by the whole test session, started on first use; PgUnavailable if it cannot be."""
    global _session, _session_error
    with _session_lock:
        if _session is not None:
            return _session
        if _session_error is not None:
            raise _session_error
        try:
            _session = start_cluster()
        except PgUnavailable as exc:
            _session_error = exc
            raise
        atexit.register(stop_session_cluster)
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
        return _session


def stop_session_cluster() -> None:
    global _session
    if _session is not None:
        _session.stop()
        _session = None


@contextlib.contextmanager
def fresh_database(cluster: Cluster, template: str | None = None) -> Iterator[str]:
    """A DSN to a database of its own for one test, dropped afterwards."""
    name = cluster.create_database(template)
    try:
        yield cluster.dsn(name)
    finally:
        cluster.drop_database(name)
