"""
Python clients of the presque REST API.

L{Client} is synchronous and uses the standard library alone (it never
imports Twisted): for producers and workers in ordinary programs.
L{AsyncClient} has the same methods as coroutines, on treq, for Twisted code.

Both raise L{PresqueError}, or one of its subclasses, for every error the
server answers, with the status and the message of its C{{"error": ...}}
body; L{Unavailable} also covers a server that cannot be reached.

    from presque.client import Client

    client = Client("http://127.0.0.1:8080", worker_id="host1-17")
    client.post("mail", {"to": "alice"})
    job = client.fetch("mail", lease=60)
    if job is not None:
        send(job.body)
        client.ack(job)

    jobs = client.fetch_many("mail", 100, lease=60)
    client.settle_many(acks=[job for job in jobs if send(job.body)])  # one request
"""

from presque.client.asynchronous import AsyncClient
from presque.client.errors import (
    Full,
    NoJob,
    PresqueError,
    QueueClosed,
    StaleReceipt,
    Unavailable,
    UnknownJob,
)
from presque.client.models import Job, Outcome
from presque.client.settling import Ack, Fail, Settlement
from presque.client.sync import Client

__all__ = [
    "Ack",
    "AsyncClient",
    "Client",
    "Fail",
    "Full",
    "Job",
    "NoJob",
    "Outcome",
    "PresqueError",
    "QueueClosed",
    "Settlement",
    "StaleReceipt",
    "Unavailable",
    "UnknownJob",
]
