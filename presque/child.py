"""
A serving child of a daemon with C{[server] processes} above 1
(L{presque.processes}): C{python -m presque.child}, its plan (settings and
the endpoints of its inherited sockets) pickled on its standard input.

It serves every route over the inherited sockets, with its own Redis
connections; it runs neither the embedded Redis nor the periodic due work,
which the daemon does. SIGTERM drains it as it drains the daemon; it also
stops when the daemon dies, so that no child outlives its supervisor.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import signal
import sys

from presque.processes import ChildPlan


def _die_with_parent() -> None:
    """Ask Linux for a SIGTERM when the daemon dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def main() -> None:
    """Serve the plan read from standard input until SIGTERM."""
    _die_with_parent()
    plan: ChildPlan = pickle.load(sys.stdin.buffer)
    if os.getppid() != plan.daemon:
        raise SystemExit("presque: the daemon that started this process is gone")
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, jsonFileLogObserver

    from presque.logs import TextLog, TurnBufferedFile

    text_log = TextLog(sys.stdout, reactor) if plan.shares_text_log else None
    if text_log is not None:
        observer = text_log.observer
    else:
        # The daemon reads these events and logs them as its own.
        observer = jsonFileLogObserver(TurnBufferedFile(sys.stdout, reactor))
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)

    from presque.service import make_child_service, tune_garbage_collector

    service = make_child_service(plan, reactor, text_log)
    tune_garbage_collector()
    reactor.callWhenRunning(service.startService)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


if __name__ == "__main__":
    main()
