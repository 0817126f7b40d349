"""
The daemon's log observers: twistd's own text lines, written once per
reactor turn; which command lines get them; JSON lines for --logger.
"""

from __future__ import annotations

import io
import threading
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, textFileLogObserver
from twisted.scripts.twistd import ServerOptions

from presque.logs import WHOLE_WRITE, TextLog, TurnBufferedFile, daemon_text_log


class CountedWrites(io.StringIO):
    """A file that counts the writes it was given."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def event(text: str, when: float) -> dict[str, object]:
    return {
        "log_format": "{line}",
        "line": text,
        "log_time": when,
        "log_namespace": "presque.access",
        "log_level": LogLevel.info,
    }


def twistd_options(*args: str) -> ServerOptions:
    options = ServerOptions()
    options.parseOptions([*args, "presque", "--redis", "redis://127.0.0.1:1/0"])
    return options


@async_test
async def test_what_a_turn_logs_is_written_at_its_end_in_one_write() -> None:
    file = CountedWrites()
    buffered = TurnBufferedFile(file, reactor)
    buffered.write("one\n")
    buffered.write("two\n")
    assert file.getvalue() == ""
    await deferLater(reactor, 0, lambda: None)
    assert (file.getvalue(), file.writes) == ("one\ntwo\n", 1)


@async_test
async def test_a_long_turn_is_written_in_whole_events_of_at_most_whole_write_characters() -> None:
    file = CountedWrites()
    buffered = TurnBufferedFile(file, reactor)
    line = "x" * 99 + "\n"
    lines = WHOLE_WRITE // len(line) * 3
    for _ in range(lines):
        buffered.write(line)
    await deferLater(reactor, 0, lambda: None)
    assert file.getvalue() == line * lines
    assert file.writes == 3


def test_a_write_from_another_thread_goes_straight_through() -> None:
    file = CountedWrites()
    buffered = TurnBufferedFile(file, reactor)
    writer = threading.Thread(target=buffered.write, args=("from a thread\n",))
    writer.start()
    writer.join()
    assert file.getvalue() == "from a thread\n"


@async_test
async def test_lines_are_twistds_own_text_lines() -> None:
    ours, twistds = io.StringIO(), io.StringIO()
    observer = TextLog(ours, reactor).observer
    now = time.time()
    for line, when in (("GET /q/a 200", now), ("GET /q/b 404", now + 0.5), ("later", now + 3)):
        observer(event(line, when))
        textFileLogObserver(twistds)(event(line, when))
    await deferLater(reactor, 0, lambda: None)
    assert ours.getvalue() == twistds.getvalue()


@async_test
async def test_an_access_line_is_the_line_of_its_event() -> None:
    ours, twistds = io.StringIO(), io.StringIO()
    before = time.time()
    TextLog(ours, reactor).access_line("GET /q/a 200 7 0.5ms 127.0.0.1")
    await deferLater(reactor, 0, lambda: None)
    for when in (before, time.time()):
        textFileLogObserver(twistds)(event("GET /q/a 200 7 0.5ms 127.0.0.1", when))
    assert ours.getvalue() in twistds.getvalue().splitlines(keepends=True)


def test_twistd_nodaemon_logs_through_the_buffered_observer() -> None:
    assert daemon_text_log(twistd_options("--nodaemon"), reactor) is not None
    assert daemon_text_log(twistd_options("--nodaemon", "--logfile", "-"), reactor) is not None


def test_a_logger_syslog_or_log_file_of_twistd_keeps_twistds_observer() -> None:
    for args in (
        ("--nodaemon", "--logger", "presque.logs.json_observer"),
        ("--nodaemon", "--syslog"),
        ("--nodaemon", "--logfile", "presque.log"),
        (),
    ):
        assert daemon_text_log(twistd_options(*args), reactor) is None, args
