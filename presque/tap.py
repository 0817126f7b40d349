"""
The twistd command line: options, then the service tree.

Kept free of reactor-installing imports at module level, so that
C{twistd -r asyncio presque} picks the reactor.
"""

from __future__ import annotations

from typing import ClassVar

from twisted.application.service import IService
from twisted.python import usage

from presque.config import Config, ConfigError, keys_error, load_config


class Options(usage.Options):
    """C{twistd presque} options."""

    optParameters: ClassVar[list[list[str | None]]] = [
        ["config", "c", None, "Path of the INI configuration file."],
        [
            "redis",
            None,
            None,
            "Redis URL (redis://[user:pass@]host:port/db, rediss:// for TLS, or unix:///path); "
            "overrides [redis] url. Without one, presque runs its own redis-server.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []

    def opt_version(self) -> None:
        """Print presque's version and exit."""
        from presque import __version__

        print(f"presque {__version__}")
        raise SystemExit(0)

    def opt_listen(self, endpoint: str) -> None:
        """A Twisted server endpoint to serve on (repeatable); overrides [server] listen."""
        self["listen"].append(endpoint)

    def postOptions(self) -> None:
        from presque.embedded import DataDirInUse, claim_data_dir

        try:
            base = load_config(self["config"]) if self["config"] else Config()
            settings = self["settings"] = base.with_overrides(tuple(self["listen"]), self["redis"])
            if settings.redis.address is None:
                # Here, before twistd looks at its pidfile or daemonizes (the
                # lock follows the process into the fork).
                claim_data_dir(settings.redis.data_dir)
        except (ConfigError, DataDirInUse) as error:
            # The message alone: twistd would print its whole usage text first.
            raise SystemExit(f"presque: {error}") from None


def makeService(options: Options) -> IService:
    """Build the daemon from parsed C{options}."""
    from twisted.internet import reactor

    from presque.embedded import RedisServerNotFound
    from presque.logs import LoggingDaemon, daemon_text_log
    from presque.redis_tls import BadTLSFiles
    from presque.service import make_service, tune_garbage_collector

    text_log = daemon_text_log(options.parent, reactor)
    settings = options["settings"]
    try:
        service = make_service(settings, reactor, text_log)
    except BadTLSFiles as error:
        # Found once the files are read, named as the file's other errors.
        raise SystemExit(f"presque: {keys_error(settings.source, 'redis', error)}") from None
    except RedisServerNotFound as error:
        raise SystemExit(f"presque: {error}") from None
    tune_garbage_collector()
    return service if text_log is None else LoggingDaemon(service, text_log.observer)
