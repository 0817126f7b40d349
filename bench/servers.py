"""
The servers under test, all on 127.0.0.1 and on free ports.

For each presque checkout under test (this one, and the one of C{--against}),
a private redis-server with an everysec append-only file and one presque
daemon (twistd, default settings, its output in a file); with C{--perl DIR},
the original presque (Perl, 2010) installed in DIR, with its own such Redis
(harness/perl-presque installs and starts it); once, bare_server.py, the
ceiling of the stack. Each is started through L{Children}, which stops it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.children import Children
from bench.errors import BenchError, waiting_for
from bench.presque_client import call
from bench.scenarios import QUEUE
from harness.daemon import ROOT, twistd_command
from harness.polling import wait_until
from harness.processes import free_port, wait_for_port

START_TIMEOUT = 20.0
THIS = "this"
AGAINST = "against"
PERL = "perl"
# Installs, checks, describes and starts the original presque.
PERL_PRESQUE = ROOT / "harness" / "perl-presque"


@dataclass(frozen=True)
class Presque:
    """One presque daemon under test and its private Redis."""

    label: str  # THIS, AGAINST or PERL (the original presque)
    port: int
    redis: int
    daemon_log: Path
    redis_log: Path


def suffix(label: str) -> str:
    """What a label adds to a name: nothing for this checkout, else " (label)"."""
    return "" if label == THIS else f" ({label})"


@dataclass(frozen=True)
class Servers:
    """Where the servers under test listen."""

    daemons: tuple[Presque, ...]  # this checkout's first, then the one of --against
    bare: int
    perl: Presque | None = None  # the original presque, with --perl


def twistd_of(checkout: Path | None) -> str:
    """The twistd of C{checkout}'s .venv; None: the one beside this interpreter."""
    path = Path(twistd_command()[0]) if checkout is None else checkout / ".venv" / "bin" / "twistd"
    if not path.exists():
        where = "beside this python: run it with the venv's" if checkout is None else "there"
        raise BenchError(f"no twistd at {path} ({where})")
    return str(path)


def redis_server_args(port: int, data: Path) -> list[str]:
    """The redis-server presque itself would use, with presque's durable options."""
    try:
        from presque.embedded import RedisServerNotFound, durable_options, require_redis_server
    except ImportError:
        raise BenchError("presque is not importable: run this with the venv's python") from None
    try:
        binary = require_redis_server()
    except RedisServerNotFound as error:
        raise BenchError(str(error)) from None
    return [binary, "--port", str(port), "--bind", "127.0.0.1", *durable_options(data, "everysec")]


def wait_listening(name: str, port: int, process: subprocess.Popen[bytes]) -> None:
    """Block until C{process} accepts connections on 127.0.0.1:C{port}."""
    with waiting_for(f"{name} does not start"):
        wait_for_port(port, START_TIMEOUT, process)


def start_redis(children: Children, workdir: Path, name: str = "redis-server") -> int:
    """A private redis-server with an everysec append-only file; return its port."""
    port = free_port()
    data = workdir / "redis"
    data.mkdir()
    args = redis_server_args(port, data)
    with (workdir / "redis.log").open("wb") as log:
        process = children.start(name, args, stdout=log, stderr=subprocess.STDOUT)
    wait_listening(name, port, process)
    return port


def start_daemon(
    children: Children,
    workdir: Path,
    redis_port: int,
    twistd: str,
    name: str = "presque",
    processes: int = 1,
) -> tuple[int, Path]:
    """
    One presque daemon with the default settings (but C{processes}, if not
    1); return its port and its log.
    """
    port = free_port()
    config = workdir / "presque.ini"
    config.write_text(
        "# bench.run: every setting at its default (access log on);\n"
        "# --listen and --redis come from the command line.\n"
        "[server]\n" + (f"processes = {processes}\n" if processes != 1 else "")
    )
    args = [
        twistd,
        "-n",
        "presque",
        "--config", str(config),
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",  # the default's backlog
        "--redis", f"redis://127.0.0.1:{redis_port}/0",
    ]  # fmt: skip
    log_path = workdir / "presque.log"
    with log_path.open("wb") as log:
        process = children.start(name, args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(name, port, process, log_path)
    return port, log_path


def wait_ready(name: str, port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Block until C{process} listens on C{port} and answers 200 to C{GET /j/bench}."""
    try:
        wait_listening(name, port, process)
    except BenchError as error:
        tail = log_path.read_text(errors="replace").splitlines()[-20:]
        raise BenchError("\n".join([str(error), f"the end of {log_path}:", *tail])) from None
    with waiting_for(f"{name} does not reach Redis"):
        wait_until(
            lambda: call(port, "GET", f"/j/{QUEUE}")[0] == 200,
            START_TIMEOUT,
            f"no 200 from GET /j/{QUEUE} after {START_TIMEOUT:.0f}s",
        )


def start_presque(
    children: Children, workdir: Path, label: str, checkout: Path | None, processes: int = 1
) -> Presque:
    """A private Redis, then a daemon of C{checkout} (None: this one) against it."""
    twistd = twistd_of(checkout)
    workdir.mkdir(exist_ok=True)
    redis_port = start_redis(children, workdir, f"redis-server{suffix(label)}")
    port, daemon_log = start_daemon(
        children, workdir, redis_port, twistd, f"presque{suffix(label)}", processes
    )
    return Presque(
        label=label,
        port=port,
        redis=redis_port,
        daemon_log=daemon_log,
        redis_log=workdir / "redis.log",
    )


def start_perl(children: Children, workdir: Path, perl_dir: Path) -> Presque:
    """
    A private Redis, then the original presque of C{perl_dir} against it:
    C{harness/perl-presque start}, which writes its conf.yaml in C{workdir}
    and execs plackup (Twiggy, -E deployment: no access log).
    """
    workdir.mkdir(exist_ok=True)
    name = f"presque{suffix(PERL)}"
    redis_port = start_redis(children, workdir, f"redis-server{suffix(PERL)}")
    port = free_port()
    args = [str(PERL_PRESQUE), "start", str(perl_dir), str(port), str(redis_port)]
    log_path = workdir / "presque.log"
    with log_path.open("wb") as log:
        process = children.start(name, args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(name, port, process, log_path)
    return Presque(PERL, port, redis_port, log_path, workdir / "redis.log")


def describe_perl(perl_dir: Path) -> str:
    """C{perl_dir} and the versions of the original presque and its stack there."""
    done = subprocess.run(
        [str(PERL_PRESQUE), "describe", str(perl_dir)], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise BenchError(f"--perl {perl_dir}: {done.stderr.strip() or done.stdout.strip()}")
    return f"{perl_dir}: {done.stdout.strip()}"


def start_bare(children: Children, workdir: Path) -> int:
    """The bare twisted.web server; return its port."""
    port = free_port()
    args = [sys.executable, "-m", "bench.bare_server", str(port)]
    with (workdir / "bare.log").open("wb") as log:
        process = children.start(
            "bare server", args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    wait_listening("bare server", port, process)
    return port


def start_servers(
    children: Children,
    workdir: Path,
    against: Path | None = None,
    processes: int = 1,
    perl: Path | None = None,
) -> Servers:
    """
    Redis and a presque daemon per checkout (this one, with C{processes}
    serving processes, and C{against}, with its default), Redis and the
    original presque of C{perl}, the bare server.
    """
    daemons = [start_presque(children, workdir, THIS, None, processes)]
    if against is not None:
        daemons.append(start_presque(children, workdir / AGAINST, AGAINST, against))
    peer = None if perl is None else start_perl(children, workdir / PERL, perl)
    return Servers(daemons=tuple(daemons), bare=start_bare(children, workdir), perl=peer)
