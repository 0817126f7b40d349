"""
The synchronous client, on the standard library alone: importing it never
imports Twisted, so any Python program can post and take jobs.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any, TypeVar

from presque.client.errors import Unavailable
from presque.client.models import (
    DEFAULT_BATCH,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Answer,
    Call,
    Job,
    Outcome,
    lower_headers,
    retry_delays,
    token_or_environment,
)
from presque.client.requests import NO_RESULT
from presque.client.requests import Requests as R
from presque.client.settling import Ack, Fail, Settlement, settle_calls

T = TypeVar("T")


class Client:
    """
    A client of the presque at C{base_url}, on urllib: one connection per
    request, safe to share between threads. C{worker_id}, when given, goes in
    the X-presque-workerid header of every request, and C{token} (else
    $PRESQUE_TOKEN) in its Authorization header. C{timeout} is in seconds;
    a fetch's C{wait} is added to it. A post that gets no answer or a 503 is
    sent again up to C{retries} times, with the same Idempotency-Key: the
    server stores its jobs once.
    """

    def __init__(
        self,
        base_url: str,
        worker_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.worker_id = worker_id
        self.token = token_or_environment(token)
        self.timeout = timeout
        self.retries = retries
        self._opener = urllib.request.build_opener()

    def _send(self, call: Call[T]) -> T:
        for delay in retry_delays(self.retries if call.repeatable else 0):
            try:
                return self._send_once(call)
            except Unavailable:
                time.sleep(delay)
        return self._send_once(call)

    def _send_once(self, call: Call[T]) -> T:
        data = call.data()
        headers = call.headers_for(data, self.worker_id, self.token)
        request = urllib.request.Request(call.url(self.base_url), data, headers, method=call.method)
        try:
            with self._opener.open(request, timeout=self.timeout + call.wait) as response:
                answer = Answer(
                    response.status, lower_headers(response.headers.items()), response.read()
                )
        except urllib.error.HTTPError as error:
            with error:
                answer = Answer(error.code, lower_headers(error.headers.items()), error.read())
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or error
            raise Unavailable(None, f"{self.base_url}: {reason}") from error
        return call.result(answer)

    def post(
        self,
        queue: str,
        job: Any,
        delay: float | None = None,
        run_at: float | None = None,
        uniq: str | None = None,
        priority: int | None = None,
        idempotency_key: str | None = None,
        group: str | None = None,
        wait_for_result: float | None = None,
    ) -> Any:
        """Add C{job} (any JSON value; bytes are sent as they are, as JSON text) to
        C{queue}; answer its id. It is due C{delay} seconds from now (by this
        machine's clock) or at the unix time C{run_at}; C{uniq} refuses it while a
        job with the same key is queued; C{priority} (0-9, higher first) and C{group}
        are passed on. C{idempotency_key} (a fresh one by default) makes a repeated
        post store nothing more and answer the same id. With C{wait_for_result}
        (seconds), answer the job's L{Outcome} instead, once it is done or dead or
        that time passed (see L{wait_for})."""
        call = R.post(queue, job, delay, run_at, uniq, priority, idempotency_key, group)
        job_id = self._send(call)
        if wait_for_result is None:
            return job_id
        return self.wait_for(queue, job_id, wait_for_result)

    def wait_for(self, queue: str, job_id: str, timeout: float) -> Outcome:
        """The L{Outcome} of a job once it is done or dead, or when C{timeout} seconds
        passed (then in the state it is in); a long poll, however long the wait."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            outcome = self._send(R.outcome(queue, job_id, left))
            if outcome.finished or left == 0:
                return outcome

    def post_many(
        self,
        queue: str,
        jobs: Iterable[Any],
        delay: float | None = None,
        run_at: float | None = None,
        priority: int | None = None,
        batch: int = DEFAULT_BATCH,
        idempotency_key: str | None = None,
    ) -> list[str]:
        """Add C{jobs} in order, C{batch} per request (not atomic across requests);
        answer their ids in the same order. Options as for L{post}, without C{uniq}."""
        calls = R.post_many(queue, jobs, delay, run_at, priority, batch, idempotency_key)
        return [job_id for call in calls for job_id in self._send(call)]

    def fetch(
        self, queue: str, lease: float | None = None, wait: float | None = None
    ) -> Job | None:
        """Take the next job of C{queue}, leased for C{lease} seconds if given (else as
        the queue's settings say), waiting up to C{wait} seconds for one to arrive;
        None when there is none. Raises L{QueueClosed} when the queue is closed."""
        return self._send(R.fetch(queue, lease, wait))

    def fetch_many(
        self, queue: str, count: int, lease: float | None = None, wait: float | None = None
    ) -> list[Job]:
        """Take up to C{count} jobs, as L{fetch} takes one; [] when there is none."""
        return self._send(R.fetch_many(queue, count, lease, wait))

    def ack(self, job: Job, result: Any = NO_RESULT) -> None:
        """Settle a leased job as done (a job taken for good has nothing to settle),
        with C{result} (any JSON value) for the producer, if given."""
        if call := R.ack(job, result):
            self._send(call)

    def settle_many(
        self, acks: Iterable[Job | Ack] = (), fails: Iterable[Fail] = (), batch: int = DEFAULT_BATCH
    ) -> Settlement:
        """Ack and fail many leased jobs, in one request per C{batch} jobs of a queue:
        a L{Job} in C{acks} is acked without a result, an L{Ack} with one; each L{Fail}
        fails its job as L{fail} would. Each job is settled on its own: the answer lists
        those settled and those refused (a receipt no longer current, say), which are
        left as they were. Jobs taken for good have no ack to send."""
        settlement = Settlement()
        for call in settle_calls(acks, fails, batch):
            settlement.add(self._send(call))
        return settlement

    def progress(self, job: Job, value: float, message: str = "") -> None:
        """Tell how far a leased job got (C{value} on the worker's own scale)."""
        self._send(R.progress(job, value, message))

    def fail(
        self, job: Job, error: str | None = None, delay: float | None = None, dead: bool = False
    ) -> dict:
        """Fail a leased job: retried after a backoff, or after C{delay} seconds, or
        dead at once with C{dead}; answers C{{"id", "state", "next_run"}}. A job taken
        for good is given back instead (PUT /q/Q, as presque 1; C{error} is not kept)."""
        return self._send(R.fail(job, error, delay, dead))

    def extend(self, job: Job, seconds: float) -> float:
        """Renew C{job}'s lease for C{seconds} from now; answer the new deadline (unix
        time), which is also set on C{job}."""
        return self._send(R.extend(job, seconds))

    def job_info(self, queue: str, job_id: str) -> dict:
        """Everything about one job: C{state}, C{attempts}, C{errors}, times and C{job}."""
        return self._send(R.job_info(queue, job_id))

    def queues(self) -> list[dict]:
        """Every queue with its status and counts."""
        return self._send(R.queues())

    def workers(self) -> list[dict]:
        """Every worker registered or seen, with its queues, counters and liveness."""
        return self._send(R.workers())

    def queue_info(self, queue: str) -> dict:
        """Everything about C{queue}: status, counts, totals, settings and workers."""
        return self._send(R.queue_info(queue))

    def configure(self, queue: str, **settings: float) -> dict:
        """Set any of C{lease}, C{max_attempts}, C{backoff_base}, C{backoff_cap}
        and C{max_length} of C{queue}; answer its L{queue_info}."""
        return self._send(R.configure(queue, settings))

    def stats(self, queue: str) -> dict:
        """C{{"queue_name", "job_count", "job_processed", "job_failed"}} (GET /j/Q)."""
        return self._send(R.stats(queue))

    def pause(self, queue: str) -> None:
        """Close C{queue}: it still accepts jobs but hands none out."""
        self._send(R.control(queue, "stop"))

    def resume(self, queue: str) -> None:
        """Open C{queue} again."""
        self._send(R.control(queue, "start"))

    def dead_letters(self, queue: str, offset: int = 0, limit: int = 100) -> dict:
        """A page of dead letters: C{{"queue", "total", "offset", "limit", "jobs"}}."""
        return self._send(R.dead_letters(queue, offset, limit))

    def retry_dead(self, queue: str, ids: list[str] | None = None) -> int:
        """Put the dead letters (all, or those of C{ids}) back in the queue; how many."""
        return self._send(R.retry_dead(queue, ids))

    def purge_dead(self, queue: str) -> int:
        """Drop every dead letter of C{queue}; how many."""
        return self._send(R.purge_dead(queue))

    def jobs(self, queue: str, state: str = "ready", offset: int = 0, limit: int = 100) -> dict:
        """
        A page of C{queue}'s jobs in C{state} (ready, delayed, leased, dead),
        in that state's order: C{{"queue", "state", "total", "offset",
        "limit", "jobs"}}.
        """
        return self._send(R.jobs(queue, state, offset, limit))

    def make_ready(self, queue: str, job_id: str) -> dict:
        """Run a delayed job or a dead letter now; its new view."""
        return self._send(R.move_job(queue, job_id, "ready"))

    def send_to_dead(self, queue: str, job_id: str, error: str | None = None) -> dict:
        """Send a job to the dead letters at once, saying why; its new view."""
        return self._send(R.move_job(queue, job_id, "dead", error))

    def remove_job(self, queue: str, job_id: str, force: bool = False) -> None:
        """Cancel a job: remove it for good, from any state; a leased one only with
        C{force} (else L{PresqueError} 409: its worker may be halfway through it)."""
        self._send(R.remove_job(queue, job_id, force))

    def summary(self) -> dict:
        """Every queue at a glance (GET /summary)."""
        return self._send(R.summary())

    def purge(self, queue: str) -> None:
        """Drop every ready and delayed job of C{queue}, its uniq keys and counters."""
        self._send(R.purge(queue))

    def set_virtual(self, name: str, queues: Iterable[str]) -> dict:
        """Define the virtual queue C{name}: fetching from it takes the jobs of
        C{queues}, the first that has any; answer its definition."""
        return self._send(R.set_virtual(name, list(queues)))

    def schedules(self, offset: int = 0, limit: int = 100) -> list[dict]:
        """A page of the schedules of recurring jobs (by name), with their next and
        last runs."""
        return self._send(R.schedules(offset, limit))

    def put_schedule(self, name: str, **definition: Any) -> dict:
        """Write the schedule C{name}: C{queue}, C{job}, C{cron} (with C{tz}) or
        C{every}, and the options of C{PUT /schedules/NAME}; answer its view."""
        return self._send(R.put_schedule(name, definition))

    def pause_schedule(self, name: str) -> dict:
        """Pause a schedule; answer its view."""
        return self._send(R.schedule_action(name, "pause"))

    def resume_schedule(self, name: str) -> dict:
        """Resume a schedule; answer its view."""
        return self._send(R.schedule_action(name, "resume"))

    def delete_schedule(self, name: str) -> None:
        """Delete a schedule."""
        self._send(R.schedule_action(name, "delete"))

    def register(self, queue: str) -> None:
        """Register this client's worker id on C{queue}."""
        self._send(R.register(queue, True))

    def unregister(self, queue: str) -> None:
        """Unregister this client's worker id from C{queue}."""
        self._send(R.register(queue, False))
