"""A throwaway PostgreSQL cluster of the tests' own, for logical decoding.

The shared server on 127.0.0.1:5432 runs with ``wal_level = replica`` and must not be
reconfigured, so the change-capture tests ``initdb`` a private cluster in a temporary folder,
start it with ``wal_level = logical`` on a Unix socket only (no TCP port to collide on), and
remove it afterwards. ``pg_ctl`` refuses to run as root, so as root every server command runs
as the ``postgres`` user through ``runuser`` and the folder belongs to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


class ClusterUnavailable(Exception):
    """The private cluster cannot be set up here; the message says why and what to install."""


def find_bindir() -> Path:
    """The newest PostgreSQL server ``bin`` folder (``$SLUICEWAY_PG_BINDIR`` wins)."""
    override = os.environ.get("SLUICEWAY_PG_BINDIR")
    candidates = [Path(override)] if override else []
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
        reverse=True,
    )
    candidates.extend(versions)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise ClusterUnavailable(
        f"no PostgreSQL server binaries (initdb, pg_ctl) under {PG_ROOT}/*/bin "
        "(apt-get install postgresql, or set SLUICEWAY_PG_BINDIR)"
    )


def _as_server_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    if shutil.which("runuser") is None:
        raise ClusterUnavailable("running as root but runuser is missing (util-linux)")
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run(command: Sequence[str], *, timeout: float = 120) -> str:
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise ClusterUnavailable(
            f"{Path(command[0]).name} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-800:]}"
        )
    return done.stdout


def plugin_installed(bindir: Path, plugin: str) -> bool:
    """Whether the server's library folder has ``plugin``'s shared library."""
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        libdir = subprocess.run(
            [str(pg_config), "--pkglibdir"], capture_output=True, text=True, check=False
        ).stdout.strip()
    else:
        libdir = str(bindir.parent / "lib")
    return (Path(libdir) / f"{plugin}.so").is_file()


def server_major(bindir: Path) -> int:
    """The major version of the server in ``bindir`` (``postgres --version``)."""
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    ).stdout
    return int(out.split()[-1].split(".")[0])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateCluster:
    """One running throwaway cluster; ``stop()`` removes it."""

    bindir: Path
    root: Path
    port: int
    wal_level: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq keyword string for ``dbname`` over the cluster's Unix socket."""
        return f"host={self.socket_dir} port={self.port} user={SERVER_USER} dbname={dbname}"

    def knows_setting(self, name: str) -> bool:
        return name in _run([str(self.bindir / "postgres"), "--describe-config"])

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                _run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(*, wal_level: str, plugins: Sequence[str] = ("wal2json",)) -> PrivateCluster:
    """``initdb`` and start a cluster with ``wal_level``; raises ``ClusterUnavailable``."""
    bindir = find_bindir()
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise ClusterUnavailable(
                f"running as root and there is no {SERVER_USER!r} user"
            ) from None
    # Not under pytest's tmp_path: that folder is root's and closed to the server user.
    root = Path(tempfile.mkdtemp(prefix="sluiceway-pg-"))
    cluster = PrivateCluster(bindir=bindir, root=root, port=_free_port(), wal_level=wal_level)
    try:
        cluster.socket_dir.mkdir()
        if os.geteuid() == 0:
            for path in (root, cluster.socket_dir):
                os.chown(path, server_user.pw_uid, server_user.pw_gid)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                SERVER_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        settings = {
            "port": str(cluster.port),
            "listen_addresses": "''",
            "unix_socket_directories": f"'{cluster.socket_dir}'",
            "wal_level": wal_level,
            "max_replication_slots": "8",
            "max_wal_senders": "4",
            # fsync off is safe for a throwaway cluster; synchronous_commit stays on because the
            # SQL slot functions decode only WAL that is flushed, and tests read right after
            # they write.
            "fsync": "off",
            "full_page_writes": "off",
            "timezone": "'UTC'",
        }
        # Newer minor releases only let listed libraries be output plugins.
        if cluster.knows_setting("output_plugin_libraries"):
            allowed = ", ".join(["pgoutput", "test_decoding", *plugins])
            settings["output_plugin_libraries"] = f"'{allowed}'"
        conf = cluster.data / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("\n# sluiceway tests\n")
            handle.writelines(f"{key} = {value}\n" for key, value in settings.items())
        _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(cluster.data),
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
    except (ClusterUnavailable, OSError, subprocess.SubprocessError) as exc:
        log = root / "server.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        cluster.stop()
        raise ClusterUnavailable(f"{exc} {tail}".strip()) from exc
    return cluster
