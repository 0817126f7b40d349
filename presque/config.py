"""
The INI configuration file, read into typed and validated settings.

Every mistake is reported as a L{ConfigError} naming the file, the section
and the key, so that a daemon with a bad configuration stops at start with a
message that says what to fix.
"""

from __future__ import annotations

import configparser
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from presque.broker.model import QueueSettings
from presque.redis_url import RedisAddress, parse_redis_url

T = TypeVar("T")

DEFAULT_LISTEN = ("tcp:8080:interface=127.0.0.1:backlog=1024",)


class ConfigError(Exception):
    """A configuration file, or a command-line override, is unusable."""


@dataclass(frozen=True)
class ServerSettings:
    """The HTTP side: where to listen and what a request may carry."""

    listen: tuple[str, ...] = DEFAULT_LISTEN
    max_body_size: int = 1024 * 1024
    max_batch_size: int = 1000
    max_queue_name_length: int = 128
    access_log: bool = True
    shutdown_grace: float = 10.0
    #: Longest C{wait=S} a consumer may ask for, in seconds.
    max_wait: float = 60.0


@dataclass(frozen=True)
class RedisSettings:
    """
    Where the state lives: a Redis server given by URL, or, when C{address}
    is None, a private redis-server that presque starts in C{data_dir}.
    """

    address: RedisAddress | None = None
    data_dir: Path = Path("var/redis")
    appendfsync: str = "everysec"
    pool_size: int = 4
    command_timeout: float = 5.0
    connect_timeout: float = 2.0


@dataclass(frozen=True)
class SchedulerSettings:
    """Background work every server does: promoting due delayed jobs."""

    interval: float = 1.0


@dataclass(frozen=True)
class WorkerSettings:
    """How workers are watched."""

    #: A worker that made a request within this many seconds is alive.
    alive_window: float = 60.0


@dataclass(frozen=True)
class Config:
    """All settings of one presque daemon."""

    server: ServerSettings = field(default_factory=ServerSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    #: Every queue's settings until PATCH /queues/Q overrides them.
    queues: QueueSettings = field(default_factory=QueueSettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)

    def with_overrides(self, listen: tuple[str, ...] = (), redis_url: str | None = None) -> Config:
        """Apply the command-line options, which win over the file."""
        config = self
        if listen:
            for endpoint in listen:
                _parse("--listen", lambda endpoint=endpoint: _check_endpoint(endpoint))
            config = replace(config, server=replace(config.server, listen=tuple(listen)))
        if redis_url is not None:
            address = _parse("--redis", lambda: parse_redis_url(redis_url))
            config = replace(config, redis=replace(config.redis, address=address))
        return config


def load_config(path: str | Path) -> Config:
    """Read and validate the INI file at C{path}."""
    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror}") from None
    except configparser.Error as error:
        raise ConfigError(f"{path}: not a valid INI file: {error}") from None
    return _Reader(path, parser).config()


def _parse(where: str, convert: Callable[[], T]) -> T:
    try:
        return convert()
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {text!r}")
    return value


def _number(text: str, smallest: float, description: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= smallest):
        raise ValueError(f"must be {description}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _number(text, math.ulp(0), "a positive number")


def _non_negative_float(text: str) -> float:
    return _number(text, 0.0, "zero or a positive number")


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"must be one of yes/no/true/false/on/off/1/0, got {text!r}")


def _endpoints(text: str) -> tuple[str, ...]:
    endpoints = tuple(text.split())
    if not endpoints:
        raise ValueError("needs at least one endpoint, e.g. tcp:8080:interface=127.0.0.1")
    for endpoint in endpoints:
        _check_endpoint(endpoint)
    return endpoints


def _check_endpoint(description: str) -> None:
    from twisted.internet.endpoints import serverFromString

    try:
        # Parsing only: no reactor is touched until the endpoint listens.
        serverFromString(None, description)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"must be a Twisted server endpoint such as tcp:8080:interface=127.0.0.1,"
            f" got {description!r} ({error})"
        ) from None


def _appendfsync(text: str) -> str:
    if text not in ("always", "everysec", "no"):
        raise ValueError(f"must be always, everysec or no, got {text!r}")
    return text


def _optional_redis_url(text: str) -> RedisAddress | None:
    return parse_redis_url(text) if text.strip() else None


_KNOWN_KEYS = {
    "server": {
        "listen",
        "max_body_size",
        "max_batch_size",
        "max_queue_name_length",
        "access_log",
        "shutdown_grace",
        "max_wait",
    },
    "redis": {
        "url",
        "data_dir",
        "appendfsync",
        "pool_size",
        "command_timeout",
        "connect_timeout",
    },
    "scheduler": {"interval"},
    "queues": {"lease", "max_attempts", "backoff_base", "backoff_cap"},
    "workers": {"alive_window"},
}


class _Reader:
    def __init__(self, path: Path, parser: configparser.ConfigParser) -> None:
        self.path = path
        self.parser = parser

    def get(self, section: str, key: str, convert: Callable[[str], T], default: T) -> T:
        if not self.parser.has_option(section, key):
            return default
        raw = self.parser.get(section, key)
        try:
            return convert(raw)
        except ValueError as error:
            raise ConfigError(f"{self.path}: [{section}] {key}: {error}") from None

    def check_known(self) -> None:
        for section in self.parser.sections():
            if section not in _KNOWN_KEYS:
                raise ConfigError(f"{self.path}: [{section}]: unknown section")
            for key in self.parser.options(section):
                if key not in _KNOWN_KEYS[section]:
                    raise ConfigError(f"{self.path}: [{section}] {key}: unknown key")

    def config(self) -> Config:
        self.check_known()
        server, redis, scheduler = ServerSettings(), RedisSettings(), SchedulerSettings()
        return Config(
            server=ServerSettings(
                listen=self.get("server", "listen", _endpoints, server.listen),
                max_body_size=self.get(
                    "server", "max_body_size", _positive_int, server.max_body_size
                ),
                max_batch_size=self.get(
                    "server", "max_batch_size", _positive_int, server.max_batch_size
                ),
                max_queue_name_length=self.get(
                    "server",
                    "max_queue_name_length",
                    _positive_int,
                    server.max_queue_name_length,
                ),
                access_log=self.get("server", "access_log", _boolean, server.access_log),
                shutdown_grace=self.get(
                    "server", "shutdown_grace", _non_negative_float, server.shutdown_grace
                ),
                max_wait=self.get("server", "max_wait", _non_negative_float, server.max_wait),
            ),
            redis=RedisSettings(
                address=self.get("redis", "url", _optional_redis_url, redis.address),
                data_dir=self.get("redis", "data_dir", Path, redis.data_dir),
                appendfsync=self.get("redis", "appendfsync", _appendfsync, redis.appendfsync),
                pool_size=self.get("redis", "pool_size", _positive_int, redis.pool_size),
                command_timeout=self.get(
                    "redis", "command_timeout", _positive_float, redis.command_timeout
                ),
                connect_timeout=self.get(
                    "redis", "connect_timeout", _positive_float, redis.connect_timeout
                ),
            ),
            scheduler=SchedulerSettings(
                interval=self.get("scheduler", "interval", _positive_float, scheduler.interval),
            ),
            queues=self.queue_settings(),
            workers=WorkerSettings(
                alive_window=self.get(
                    "workers", "alive_window", _positive_float, WorkerSettings.alive_window
                ),
            ),
        )

    def queue_settings(self) -> QueueSettings:
        changes = {}
        for key in _KNOWN_KEYS["queues"]:
            convert = _positive_int if key == "max_attempts" else _non_negative_float
            if self.parser.has_option("queues", key):
                changes[key] = self.get("queues", key, convert, 0)
        try:
            return QueueSettings().updated(changes)
        except ValueError as error:
            raise ConfigError(f"{self.path}: [queues]: {error}") from None
