"""presque: a persistent job queue with a REST interface, on Twisted and Redis."""

__version__ = "2.0.0.dev0"
