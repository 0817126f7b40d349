"""
C{presque}: look after a presque server from the shell.

    presque [--url URL] push QUEUE JSON [--delay S] [--uniq KEY] [--priority N]
    presque [--url URL] push QUEUE --file FILE [--batch N] [--delay S] [--priority N]
    presque [--url URL] stats [QUEUE] [--json]
    presque [--url URL] pause QUEUE
    presque [--url URL] resume QUEUE
    presque [--url URL] dead QUEUE [--limit N] [--offset N] [--json]
    presque [--url URL] retry QUEUE [ID ...]
    presque [--url URL] purge-dead QUEUE
    presque [--url URL] follow QUEUE [--lease S] [--wait S] [--with-id]
    presque token new NAME --scopes SCOPE ... [--queues PATTERN ...]

C{--url} defaults to C{$PRESQUE_URL}, else C{http://127.0.0.1:8080};
C{--token} to C{$PRESQUE_TOKEN}. Every
error (the server's, or bad input) exits 1 with a message on stderr. It uses
the synchronous L{presque.client.Client} alone: no Twisted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from presque import __version__, headers
from presque.auth import SCOPES, new_secret, token_section
from presque.cli_schedules import add_schedule_commands
from presque.cli_text import Failed, compact, table
from presque.client import Client, PresqueError, QueueClosed

DEFAULT_URL = "http://127.0.0.1:8080"


class Progress:
    """A progress bar on C{stream} (stderr), drawn only when it is a terminal."""

    WIDTH = 30

    def __init__(self, total_bytes: int | None, stream: IO[str]) -> None:
        self.total = total_bytes
        self.stream = stream
        self.shown = stream.isatty()
        self._drawn = 0.0

    def update(self, done_bytes: int, jobs: int, final: bool = False) -> None:
        """Redraw, at most ten times a second, with C{done_bytes} read and C{jobs} sent."""
        now = time.monotonic()
        if not self.shown or (now - self._drawn < 0.1 and not final):
            return
        self._drawn = now
        if self.total:
            part = min(done_bytes / self.total, 1.0)
            bar = "#" * int(part * self.WIDTH)
            line = f"[{bar:<{self.WIDTH}}] {part:4.0%}  {jobs} jobs"
        else:
            line = f"{jobs} jobs"
        self.stream.write("\r" + line + ("\n" if final else ""))
        self.stream.flush()


def _read_jobs(stream: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    """(bytes read so far, job) for each non-blank JSON line of C{stream}."""
    read = 0
    for number, line in enumerate(stream, start=1):
        read += len(line)
        if not line.strip():
            continue
        try:
            job = json.loads(line.rstrip(b"\r\n"))
        except json.JSONDecodeError as error:
            where = f"{name}:{number}: invalid JSON"
            raise Failed(f"{where}: {error.msg} at column {error.colno}") from None
        except ValueError as error:  # not UTF-8
            raise Failed(f"{name}:{number}: {error}") from None
        yield read, job


def push(client: Client, args: argparse.Namespace) -> None:
    """Add one job, or every line of a JSON lines file in batches."""
    if (args.job is None) == (args.file is None):
        raise Failed("give either a JSON job or --file FILE")
    if args.job is not None:
        try:
            json.loads(args.job)
        except ValueError as error:
            raise Failed(f"invalid JSON job: {error}") from None
        # Sent as typed: the server keeps jobs byte for byte.
        options = {"delay": args.delay, "uniq": args.uniq, "priority": args.priority}
        print(client.post(args.queue, args.job.encode(), **options))
        return
    if args.uniq is not None:
        raise Failed("--uniq applies to one job: the server ignores it in batches")
    if args.file == "-":
        _push_stream(client, args, sys.stdin.buffer, "<stdin>", None)
        return
    try:
        stream = open(args.file, "rb")  # noqa: SIM115 (closed below)
    except OSError as error:
        raise Failed(f"{args.file}: {error.strerror}") from None
    with stream:
        if not stream.seekable():  # a pipe: read once, as it comes
            _push_stream(client, args, stream, args.file, None)
            return
        for _ in _read_jobs(stream, args.file):
            pass  # a bad line found now, before the first batch, sends nothing at all
        size = stream.tell()
        stream.seek(0)
        _push_stream(client, args, stream, args.file, size)


def _push_stream(
    client: Client, args: argparse.Namespace, stream: IO[bytes], name: str, size: int | None
) -> None:
    progress = Progress(size, sys.stderr)
    sent, chunk, read = 0, [], 0

    def flush(read: int) -> None:
        nonlocal sent
        client.post_many(args.queue, chunk, args.delay, None, args.priority, batch=len(chunk))
        sent += len(chunk)
        chunk.clear()
        progress.update(read, sent)

    try:
        for read, job in _read_jobs(stream, name):
            chunk.append(job)
            if len(chunk) == args.batch:
                flush(read)
        if chunk:
            flush(read)
    except (Failed, PresqueError) as error:
        if progress.shown:
            print(file=sys.stderr)  # off the progress bar's line
        if sent:  # batches are not atomic together: say what went in
            raise Failed(f"{describe(error)}, after {sent} jobs pushed") from None
        raise
    progress.update(read, sent, final=True)
    print(f"{sent} jobs pushed to {args.queue}")


def stats(client: Client, args: argparse.Namespace) -> None:
    """Every queue in a table, or everything about one queue."""
    view: Any = client.queue_info(args.queue) if args.queue else client.queues()
    if args.json:
        print(json.dumps(view, indent=2, ensure_ascii=False))
    elif args.queue:
        _show_queue(view, sys.stdout)
    elif not view:
        print("no queues")
    else:
        counts = ["ready", "delayed", "leased", "dead"]
        rows = [["QUEUE", "STATUS", *(name.upper() for name in counts)]]
        rows += [[q["queue"], q["status"], *(str(q["counts"][c]) for c in counts)] for q in view]
        table(rows, sys.stdout)


def _show_queue(view: dict[str, Any], out: IO[str]) -> None:
    """One queue's view, a line per field; new fields of the server show up as they come."""
    print(f"queue     {view['queue']} ({view['status']})", file=out)
    for key, value in view.items():
        if key in ("queue", "status", "workers"):
            continue
        if isinstance(value, dict):
            value = "  ".join(f"{name} {_number(v)}" for name, v in value.items()) or "-"
        print(f"{key:<9} {value}", file=out)
    workers = view.get("workers") or []
    print(f"workers   {len(workers)}", file=out)
    for w in workers:
        alive = "alive" if w.get("alive") else "not seen lately"
        counts = f"processed {w['processed']}, failed {w['failed']}"
        print(f"  {w['worker_id']}: {alive}, {counts}", file=out)


def _number(value: Any) -> str:
    """A setting as people write it: 1 rather than 1.0."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def pause(client: Client, args: argparse.Namespace) -> None:
    """Close a queue: it keeps taking jobs and hands none out."""
    client.pause(args.queue)
    print(f"{args.queue} paused")


def resume(client: Client, args: argparse.Namespace) -> None:
    """Open a queue again."""
    client.resume(args.queue)
    print(f"{args.queue} resumed")


def dead(client: Client, args: argparse.Namespace) -> None:
    """List a page of a queue's dead letters."""
    page = client.dead_letters(args.queue, args.offset, args.limit)
    if args.json:
        for letter in page["jobs"]:
            print(compact(letter))
        return
    rows = [["ID", "DEAD SINCE", "ATTEMPTS", "LAST ERROR", "JOB"]]
    for letter in page["jobs"]:
        since = datetime.fromtimestamp(letter["dead_since"]).isoformat(" ", "seconds")
        error = letter["errors"][-1]["error"] if letter["errors"] else ""
        job = compact(letter["job"])
        rows.append([letter["id"], since, str(letter["attempts"]), _cut(error), _cut(job)])
    if len(rows) > 1:
        table(rows, sys.stdout)
    first = page["offset"] + 1
    shown = f"{first}-{page['offset'] + len(page['jobs'])} of " if page["jobs"] else ""
    print(f"{shown}{page['total']} dead letters in {args.queue}")


def _cut(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def retry(client: Client, args: argparse.Namespace) -> None:
    """Put dead letters (all, or those named) back in their queue."""
    retried = client.retry_dead(args.queue, args.ids or None)
    print(f"{retried} dead letters of {args.queue} back in the queue")


def purge_dead(client: Client, args: argparse.Namespace) -> None:
    """Drop every dead letter of a queue."""
    removed = client.purge_dead(args.queue)
    print(f"{removed} dead letters of {args.queue} removed")


class _Stopper:
    """Ctrl-C or SIGTERM: stop at once while waiting for a job, else once the job in
    hand is printed and acked (stopping in between would leave it leased)."""

    def __init__(self) -> None:
        self.waiting = False
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.stop)

    def stop(self, signum: int, frame: object) -> None:
        """The signal handler."""
        self.requested = True
        if self.waiting:
            raise KeyboardInterrupt


def follow(client: Client, args: argparse.Namespace) -> None:
    """Take the jobs of a queue as they come and print each as a JSON line; with
    C{--lease}, ack each once printed (without, jobs are taken for good)."""
    stopper, said_closed = _Stopper(), False
    try:
        while not stopper.requested:
            try:
                stopper.waiting = True
                if stopper.requested:  # it came just before: do not wait a whole poll
                    break
                job = client.fetch(args.queue, lease=args.lease, wait=args.wait)
            except QueueClosed:
                if not said_closed:
                    print(f"presque follow: {args.queue} is paused; waiting", file=sys.stderr)
                said_closed = True
                time.sleep(1.0)
                continue
            finally:
                stopper.waiting = False
            said_closed = False
            if job is None:
                continue
            body = {"id": job.id, "attempt": job.attempt, "job": job.body}
            print(compact(body if args.with_id else job.body), flush=True)
            client.ack(job)  # nothing to do for a job taken for good
    except KeyboardInterrupt:
        return


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive integer")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command line of C{presque}."""
    top = argparse.ArgumentParser(prog="presque", description="Look after a presque server.")
    url = os.environ.get("PRESQUE_URL", DEFAULT_URL)
    top.add_argument("--url", default=url, help=f"the server (default: {url})")
    top.add_argument("--version", action="version", version=f"presque {__version__}")
    top.add_argument(
        "--token", default=None, help=f"the token to send (default: ${headers.TOKEN_VARIABLE})"
    )
    # --url also after the command; SUPPRESS keeps the top one unless it is given.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = top.add_subparsers(dest="name", metavar="COMMAND", required=True)

    def command(
        name: str, run: Callable[..., None], help: str, queue: str | None = None
    ) -> argparse.ArgumentParser:
        """A command of C{presque}: C{run(client, args)}; QUEUE as the C{nargs} C{queue}."""
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(run=run)
        sub.add_argument("queue", metavar="QUEUE", nargs=queue)
        return sub

    sub = command("push", push, "add one job, or a file of JSON lines")
    sub.add_argument("job", metavar="JSON", nargs="?", help="the job (omit with --file)")
    sub.add_argument("--file", metavar="FILE", help="JSON lines, one job each ('-': stdin)")
    sub.add_argument("--batch", type=_positive, default=250, metavar="N", help="jobs per request")
    sub.add_argument("--delay", type=float, metavar="S", help="due in S seconds")
    sub.add_argument("--uniq", metavar="KEY", help="refused while a job with KEY is queued")
    sub.add_argument("--priority", type=int, metavar="N", help="0-9, higher first")
    sub = command("stats", stats, "all queues, or everything about one", queue="?")
    sub.add_argument("--json", action="store_true", help="the server's JSON")
    command("pause", pause, "close a queue: it hands out no jobs")
    command("resume", resume, "open a queue again")
    sub = command("dead", dead, "list dead letters")
    sub.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (1000)")
    sub.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N")
    sub.add_argument("--json", action="store_true", help="one JSON line per dead letter")
    sub = command("retry", retry, "put dead letters back in the queue (all by default)")
    sub.add_argument("ids", metavar="ID", nargs="*")
    command("purge-dead", purge_dead, "drop every dead letter")
    sub = command("follow", follow, "print jobs as they come, as JSON lines, until Ctrl-C")
    sub.add_argument("--lease", type=float, metavar="S", help="lease each job, ack it once printed")
    sub.add_argument("--wait", type=float, default=20.0, metavar="S", help="long poll of a fetch")
    sub.add_argument("--with-id", action="store_true", help='print {"id", "attempt", "job"}')
    add_schedule_commands(commands, common)
    tokens = commands.add_parser("token", help="make tokens", description="Make tokens.")
    made = tokens.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = made.add_parser("new", help=NEW_TOKEN_HELP, description=NEW_TOKEN_HELP)
    sub.set_defaults(run=new_token)
    sub.add_argument("token_name", metavar="NAME", help="the token's name (in the audit log)")
    sub.add_argument("--scopes", nargs="+", required=True, choices=list(SCOPES), metavar="SCOPE")
    sub.add_argument("--queues", nargs="+", default=["*"], metavar="PATTERN", help="(default: *)")
    return top


NEW_TOKEN_HELP = "print a fresh secret (once) and the [token:NAME] section that configures it"


def new_token(client: Client, args: argparse.Namespace) -> None:
    """A fresh token: its secret, shown once, and its section for the INI file."""
    secret = new_secret()
    try:
        section = token_section(args.token_name, secret, args.scopes, args.queues)
    except ValueError as error:
        raise Failed(str(error)) from None
    print("The secret, shown once: give it to the client, never write it in the INI file:")
    print(f"  {secret}\n")
    print("The section for the INI file (with [auth] mode = on):\n")
    print(section, end="")


def describe(error: Exception) -> str:
    """What went wrong, for a person: the server's message and its HTTP status."""
    if isinstance(error, PresqueError) and error.status is not None:
        return f"{error.message} (HTTP {error.status})"
    return error.message if isinstance(error, PresqueError) else str(error)


def main(argv: list[str] | None = None) -> int:
    """Run the command line C{argv}; answer the exit code."""
    args = parser().parse_args(argv)
    try:
        args.run(Client(args.url, token=args.token), args)
    except (PresqueError, Failed) as error:
        print(f"presque {args.name}: {describe(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
