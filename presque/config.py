"""
The INI configuration file, read into typed and validated settings.

Each section is a dataclass below and each key a field of it, declared
once with its default, its parser and its meaning (the queues' section is
L{QueueSettings}). Every mistake is reported as a L{ConfigError} naming the
file, the section and the key, so that a daemon with a bad configuration
stops at start with a message that says what to fix.
"""

from __future__ import annotations

import configparser
import math
import re
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from presque.auth import TOKEN_SECTION, Token, token_from_section
from presque.broker.settings import QueueSettings, is_count, setting_fields
from presque.redis_url import RedisAddress, parse_redis_url

T = TypeVar("T")

DEFAULT_LISTEN = ("tcp:8080:interface=127.0.0.1:backlog=1024",)


class ConfigError(Exception):
    """A configuration file, or a command-line override, is unusable."""


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


def _share(text: str) -> float:
    value = _number(text, math.ulp(0), "a share from 0 to 1 (0.9: 90%)")
    if value > 1:
        raise ValueError(f"must be a share from 0 to 1 (0.9: 90%), got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    return _number(text, 0.0, "zero or a positive number")


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"must be one of yes/no/true/false/on/off/1/0, got {text!r}")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _origins(text: str) -> tuple[str, ...]:
    origins = _words(text)
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
    return origins


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


def _optional_path(text: str) -> Path | None:
    return Path(text.strip()) if text.strip() else None


def _key(default: Any, parse: Callable[[str], Any], doc: str, name: str | None = None) -> Any:
    """A key of a section: its default, how its text is read, what it means."""
    return field(default=default, metadata={"parse": parse, "doc": doc, "key": name})


@dataclass(frozen=True)
class ServerSettings:
    """[server]: the HTTP side, where to listen and what a request may carry."""

    listen: tuple[str, ...] = _key(DEFAULT_LISTEN, _endpoints, "Twisted server endpoints.")
    max_body_size: int = _key(1024 * 1024, _positive_int, "Largest request body, in bytes.")
    max_batch_size: int = _key(
        1000, _positive_int, "Most jobs in one POST /qb, GET /qb or POST /qb/Q/settle."
    )
    max_result_size: int = _key(
        64 * 1024, _positive_int, "Largest result an ack may carry, in bytes of JSON."
    )
    max_queue_name_length: int = _key(128, _positive_int, "Longest queue name, in characters.")
    access_log: bool = _key(True, _boolean, "One log line per request.")
    shutdown_grace: float = _key(10.0, _non_negative_float, "Seconds a stop waits for requests.")
    max_wait: float = _key(60.0, _non_negative_float, "Longest wait=S of a long poll, seconds.")
    idle_timeout: float = _key(60.0, _positive_float, "Seconds an idle connection stays open.")
    header_timeout: float = _key(10.0, _positive_float, "Seconds a request's headers may take.")
    body_timeout: float = _key(60.0, _positive_float, "Seconds a request's body may take.")
    idempotency_window: float = _key(
        3600.0, _positive_float, "Seconds an Idempotency-Key is remembered."
    )
    delivery_timeout: float = _key(
        30.0,
        _positive_float,
        "Seconds a job taken for good waits for its answer to be written before it comes back.",
    )
    allowed_hosts: tuple[str, ...] = _key(
        ("localhost", "127.0.0.1", "::1"),
        _words,
        "The host names requests may name (Host, and a browser's Origin); * for any.",
    )
    cors_origins: tuple[str, ...] = _key(
        (), _origins, "Origins of browser pages that may call the API (CORS); * for any."
    )


@dataclass(frozen=True)
class RedisSettings:
    """
    [redis]: where the state lives. A Redis server given by URL, or, when
    C{address} is None, a private redis-server that presque starts in C{data_dir}.
    """

    address: RedisAddress | None = _key(
        None,
        _optional_redis_url,
        "redis://, rediss:// (TLS) or unix:// URL; empty: the embedded server.",
        "url",
    )
    data_dir: Path = _key(Path("var/redis"), Path, "The embedded server's data directory.")
    appendfsync: str = _key("everysec", _appendfsync, "The embedded server's fsync policy.")
    pool_size: int = _key(4, _positive_int, "Connections to Redis.")
    command_timeout: float = _key(5.0, _positive_float, "Seconds before a Redis call gives up.")
    connect_timeout: float = _key(2.0, _positive_float, "Seconds for one connection attempt.")
    producer_memory_share: float = _key(
        0.9,
        _share,
        "Past this share of Redis' maxmemory, posts get 429 while consumers drain; 1: never.",
    )
    tls_ca_file: Path | None = _key(
        None, _optional_path, "rediss://: PEM authorities to trust; empty: the system's."
    )
    tls_cert_file: Path | None = _key(
        None, _optional_path, "rediss://: the client's PEM certificate, if Redis asks for one."
    )
    tls_key_file: Path | None = _key(None, _optional_path, "rediss://: the client's PEM key.")

    def check(self) -> None:
        """
        Refuse TLS files that would be ignored.

        @raise ValueError: they are given without a rediss:// URL, or one of
            the client's certificate and key comes without the other.
        """
        files = (self.tls_ca_file, self.tls_cert_file, self.tls_key_file)
        if any(files) and not (self.address and self.address.tls):
            raise ValueError("tls_* files need a rediss:// url (in [redis] url or --redis)")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file go together")


@dataclass(frozen=True)
class SchedulerSettings:
    """[scheduler]: background work every server does."""

    interval: float = _key(1.0, _positive_float, "Seconds between two rounds of due work.")


@dataclass(frozen=True)
class WorkerSettings:
    """[workers]: how workers are watched."""

    alive_window: float = _key(60.0, _positive_float, "A worker seen this recently is alive.")
    retention: float = _key(
        86400.0, _positive_float, "Seconds a worker's record outlives its last request."
    )


@dataclass(frozen=True)
class HistorySettings:
    """[history]: the per-minute samples of each queue, for charts."""

    max_queues: int = _key(200, _positive_int, "Queues sampled, the first in name order.")
    retention: float = _key(
        7 * 86400.0, _positive_float, "Seconds a sample is kept (7 days: 10,080 samples)."
    )


@dataclass(frozen=True)
class MetricsSettings:
    """[metrics]: what GET /metrics reports, and how much it may cost."""

    max_queues: int = _key(
        200, _positive_int, "Queues with labels of their own; the others count together."
    )
    cache: float = _key(
        2.0, _non_negative_float, "Seconds the figures read from Redis serve every scrape."
    )


def _mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("on", "off"):
        raise ValueError(f"must be on or off, got {text!r}")
    return mode


@dataclass(frozen=True)
class AuthSettings:
    """[auth]: whether routes need a token ([token:NAME] sections, see L{presque.auth})."""

    mode: str = _key(
        "off", _mode, "on: every route but the open ones needs a token; off: open (presque 1)."
    )


@dataclass(frozen=True)
class Config:
    """All settings of one presque daemon, a field per section."""

    server: ServerSettings = field(default_factory=ServerSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    #: Every queue's settings until PATCH /queues/Q overrides them.
    queues: QueueSettings = field(default_factory=QueueSettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    #: The [token:NAME] sections.
    tokens: tuple[Token, ...] = field(default=(), metadata={"sections": TOKEN_SECTION})

    def with_overrides(self, listen: tuple[str, ...] = (), redis_url: str | None = None) -> Config:
        """
        Apply the command-line options, which win over the file, and check
        what the file and the options say together.
        """
        config = self
        if listen:
            for endpoint in listen:
                _parse("--listen", lambda endpoint=endpoint: _check_endpoint(endpoint))
            config = replace(config, server=replace(config.server, listen=tuple(listen)))
        if redis_url is not None:
            address = _parse("--redis", lambda: parse_redis_url(redis_url))
            config = replace(config, redis=replace(config.redis, address=address))
        _parse("[redis]", config.redis.check)
        return config


def sections() -> dict[str, tuple[Field[Any], ...]]:
    """Every section of the file, by name, with the declaration of each of its keys
    (but the [token:NAME] sections, see L{presque.auth})."""
    return {section.name: fields(section.default_factory()) for section in _sections()}


def _sections() -> list[Field[Any]]:
    return [section for section in fields(Config) if "sections" not in section.metadata]


def key_name(declared: Field[Any]) -> str:
    """The name of a key in the file (the field's name, unless it says otherwise)."""
    return declared.metadata.get("key") or declared.name


def load_config(path: str | Path) -> Config:
    """Read and validate the INI file at C{path}."""
    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror}") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a valid INI file: {error}") from None
    return _Reader(path, parser).config()


def _parse(where: str, convert: Callable[[], T]) -> T:
    try:
        return convert()
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be an integer, got {text!r}") from None


def _queue_setting_parser(declared: Field[Any]) -> Callable[[str], Any]:
    # The setting's own range is checked by QueueSettings.updated.
    return _integer if is_count(declared) else _non_negative_float


class _Reader:
    def __init__(self, path: Path, parser: configparser.ConfigParser) -> None:
        self.path = path
        self.parser = parser

    def _read(self, section: str, declared: Field[Any], parse: Callable[[str], Any]) -> Any:
        raw = self.parser.get(section, key_name(declared))
        try:
            return parse(raw)
        except ValueError as error:
            raise ConfigError(f"{self.path}: [{section}] {key_name(declared)}: {error}") from None

    def _check_known(self) -> None:
        known = sections()
        for section in self.parser.sections():
            if section.startswith(TOKEN_SECTION):
                continue  # checked as it is read
            if section not in known:
                raise ConfigError(f"{self.path}: [{section}]: unknown section")
            keys = {key_name(declared) for declared in known[section]}
            for key in self.parser.options(section):
                if key not in keys:
                    raise ConfigError(f"{self.path}: [{section}] {key}: unknown key")

    def config(self) -> Config:
        self._check_known()
        values: dict[str, Any] = {"tokens": self._tokens()}
        for section in _sections():
            if section.name == "queues":
                values["queues"] = self._queue_settings()
                continue
            given = {
                declared.name: self._read(section.name, declared, declared.metadata["parse"])
                for declared in fields(section.default_factory())
                if self.parser.has_option(section.name, key_name(declared))
            }
            values[section.name] = section.default_factory(**given)
        return Config(**values)

    def _tokens(self) -> tuple[Token, ...]:
        tokens = []
        for section in self.parser.sections():
            if not section.startswith(TOKEN_SECTION):
                continue
            try:
                token = token_from_section(
                    section[len(TOKEN_SECTION) :], dict(self.parser.items(section))
                )
            except ValueError as error:
                raise ConfigError(f"{self.path}: [{section}] {error}") from None
            tokens.append(token)
        digests = [token.digest for token in tokens]
        if len(set(digests)) < len(digests):
            raise ConfigError(f"{self.path}: two [token:NAME] sections have the same sha256")
        return tuple(tokens)

    def _queue_settings(self) -> QueueSettings:
        changes = {
            declared.name: self._read("queues", declared, _queue_setting_parser(declared))
            for declared in setting_fields()
            if self.parser.has_option("queues", declared.name)
        }
        try:
            return QueueSettings().updated(changes)
        except ValueError as error:
            raise ConfigError(f"{self.path}: [queues]: {error}") from None
