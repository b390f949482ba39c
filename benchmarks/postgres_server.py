"""A throwaway PostgreSQL cluster (initdb + pg_ctl, no system service): the API tests' database,
and ``benchmarks load --postgres``.

Root cannot run ``postgres``, so when the tests run as root the cluster belongs to the
``postgres`` OS user; its directory lives directly under /tmp because pytest's own temp dirs
are private to root.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from benchmarks.platform import free_port
from persistence import upgrade_database

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found under "
    "/usr/lib/postgresql/*/bin. Run `bash scripts/ensure_postgres.sh` to install them."
)
TEMPLATE_DB = "meetings_template"


def find_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not candidates:
        raise FileNotFoundError(INSTALL_HINT)
    return Path(candidates[-1]).parent


# What the tests run with: nothing is written to disk before it is needed.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PostgresServer:
    """``durable``: PostgreSQL's own defaults (every commit flushed to disk before it returns,
    as a production server is run); otherwise the tests' ``FAST_OPTIONS``."""

    def __init__(self, bindir: Path, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.root / "data"
        self.os_user = "postgres" if os.geteuid() == 0 else None
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.os_user,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = (
                (self.root / "server.log").read_text()
                if (self.root / "server.log").exists()
                else ""
            )
            raise RuntimeError(f"{args[0]} failed: {result.stderr}{result.stdout}\n{log}")

    def start(self) -> None:
        if self.os_user:
            shutil.chown(self.root, user=self.os_user)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        if not self.durable:
            options += f" {FAST_OPTIONS}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self._admin(f"CREATE DATABASE {TEMPLATE_DB}")
        upgrade_database(self.url(TEMPLATE_DB))

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.encode())  # statements built here from fixed names only

    def create_database(self, migrated: bool = True, prefix: str = "test") -> str:
        """A fresh database: a copy of the migrated template, or empty."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        template = TEMPLATE_DB if migrated else "template0"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
