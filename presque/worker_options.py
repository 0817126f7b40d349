"""
The command line of C{presque-worker} (L{presque.worker}): its L{Options},
and the job function it names.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from presque import __version__, headers

T = TypeVar("T")
Handler = Callable[[Any], Any]

MAX_LEASE = 7 * 24 * 3600  # the server's limit
#: The most jobs one leased fetch hands out (their receipts travel in headers).
MAX_BATCH = 250


@dataclass
class Options:
    """What the command line says."""

    url: str
    #: The queue fetched from: the one named, or the virtual queue of several.
    queue: str
    handler: str
    concurrency: int = 1
    lease: float = 60.0
    wait: float = 20.0
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    grace: float = 30.0
    #: None: $PRESQUE_TOKEN, if set.
    token: str | None = None
    #: The queues named, when several: served in that order through a
    #: virtual queue (L{virtual_name}) that the worker defines at start.
    queues: tuple[str, ...] = ()
    #: Jobs a loop fetches at once; above 1, it settles them all in one
    #: request once it has run them (L{presque.worker_batch}).
    batch: int = 1

    @property
    def served(self) -> tuple[str, ...]:
        """The queues whose jobs the worker handles, and registers on."""
        return self.queues or (self.queue,)


def virtual_name(queues: list[str]) -> str:
    """The name of the virtual queue that serves C{queues} in that order."""
    return "presque-worker:" + "+".join(queues)


def load_handler(spec: str) -> Handler:
    """
    The function named C{package.module:function} (or C{module:Class.method}),
    looked for in the working directory first, as C{python -m} and the
    runners of its kind (celery, rq, gunicorn) do.
    """
    module_name, colon, name = spec.partition(":")
    if not colon or not module_name or not name:
        raise ValueError(f"{spec!r} is not package.module:function")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in name.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{spec} is not callable")
    return target


def _bounded(kind: Callable[[str], T], lowest: float, highest: float = 1e18) -> Callable[[str], T]:
    """An argparse type: C{kind} of the text, from C{lowest} to C{highest}."""

    def parse(text: str) -> T:
        if not lowest <= (value := kind(text)) <= highest:  # type: ignore[operator]
            raise argparse.ArgumentTypeError(f"{text}: must be from {lowest:g} to {highest:g}")
        return value

    return parse


def parse_options(argv: list[str] | None = None) -> tuple[Options, Handler]:
    """The L{Options} of a command line, and the function it names."""
    parser = argparse.ArgumentParser(
        prog="presque-worker",
        description="Run package.module:function on every job of a presque queue.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    seconds = _bounded(float, 0)
    add, default = parser.add_argument, Options("", "", "")
    add("--version", action="version", version=f"presque-worker {__version__}")
    add(
        "--url",
        default=os.environ.get("PRESQUE_URL", "http://127.0.0.1:8080"),
        help="the presque server ($PRESQUE_URL if set)",
    )
    add(
        "--queue",
        required=True,
        metavar="Q",
        action="append",
        help="the queue to serve; several are served in the order given (through a virtual"
        " queue the worker defines: its token needs the admin scope)",
    )
    add(
        "--token",
        default=None,
        help=f"the token to send (${headers.TOKEN_VARIABLE} if set); it needs the consume scope",
    )

    # The tunings' defaults are those of Options, so that both say the same.
    def tuning(name: str, metavar: str, kind: Callable[[str], Any], help: str) -> None:
        add(f"--{name}", metavar=metavar, type=kind, default=getattr(default, name), help=help)

    tuning("concurrency", "N", _bounded(int, 1), "jobs handled at once")
    tuning(
        "lease",
        "S",
        _bounded(float, 0.001, MAX_LEASE),
        "lease in seconds, extended every lease/3 while a job runs",
    )
    tuning(
        "batch",
        "N",
        _bounded(int, 1, MAX_BATCH),
        "jobs each loop fetches in one request and runs one after the other; their"
        " acks and failures then go out in one request",
    )
    tuning("wait", "S", seconds, "long poll of a fetch")
    add("--worker-id", metavar="ID", default=default.worker_id, help="hostname-pid")
    tuning("grace", "S", seconds, "seconds the jobs in hand get to finish after SIGTERM or SIGINT")
    add("handler", metavar="package.module:function", help="called with each job's body")
    args = parser.parse_args(argv)
    try:
        handler = load_handler(args.handler)
    except (ImportError, AttributeError, ValueError) as error:
        parser.error(f"cannot load {args.handler}: {error}")
    named = list(dict.fromkeys(args.queue))
    if len(named) > 1:
        args.queue, args.queues = virtual_name(named), tuple(named)
    else:
        args.queue = named[0]
    return Options(**vars(args)), handler
