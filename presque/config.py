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
import re
from collections.abc import Callable, Sequence
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from presque.auth import TOKEN_SECTION, Token, token_from_section
from presque.broker.keys import DEFAULT_PREFIX, check_prefix
from presque.broker.settings import QueueSettings, check_setting, is_count, setting_fields
from presque.config_values import (
    KeysError,
    appendfsync,
    boolean,
    check_endpoint,
    endpoints,
    host_ports,
    non_negative_float,
    non_negative_int,
    optional_path,
    optional_redis_url,
    optional_text,
    origins,
    positive_float,
    positive_int,
    process_count,
    share,
    words,
)
from presque.redis_url import RedisAddress, parse_redis_url

T = TypeVar("T")

DEFAULT_LISTEN = ("tcp:8080:interface=127.0.0.1:backlog=1024",)


class ConfigError(Exception):
    """A configuration file, or a command-line override, is unusable."""


class KeysClash(KeysError):
    """Keys of one section whose values, each usable alone, do not work together."""


def config_error(
    source: Path | None, section: str, keys: Sequence[str], message: object
) -> ConfigError:
    """
    The error about C{keys} of C{section} (none: the section itself) of the
    file C{source}: C{FILE: [SECTION] KEY, KEY: message}, the one form of
    every such error, be it about one key or about several together, found
    as the file is read or later (L{keys_error}).
    """
    where = f"[{section}] {', '.join(keys)}" if keys else f"[{section}]"
    return ConfigError(f"{source}: {where}: {message}" if source else f"{where}: {message}")


def keys_error(source: Path | None, section: str, error: KeysError) -> ConfigError:
    """L{config_error} about the keys of C{section} that C{error} names, for its reason."""
    return config_error(source, section, error.keys, error.why)


def _key(default: Any, parse: Callable[[str], Any], doc: str, name: str | None = None) -> Any:
    """A key of a section: its default, how its text is read, what it means."""
    return field(default=default, metadata={"parse": parse, "doc": doc, "key": name})


@dataclass(frozen=True)
class ServerSettings:
    """[server]: the HTTP side, where to listen and what a request may carry."""

    listen: tuple[str, ...] = _key(DEFAULT_LISTEN, endpoints, "Twisted server endpoints.")
    max_body_size: int = _key(1024 * 1024, positive_int, "Largest request body, in bytes.")
    max_batch_size: int = _key(
        1000, positive_int, "Most jobs in one POST /qb, GET /qb or POST /qb/Q/settle."
    )
    max_result_size: int = _key(
        64 * 1024, positive_int, "Largest result an ack may carry, in bytes of JSON."
    )
    max_queue_name_length: int = _key(128, positive_int, "Longest queue name, in characters.")
    access_log: bool = _key(True, boolean, "One log line per request.")
    processes: int = _key(
        1,
        process_count,
        "Serving processes on the listeners, 1 to 64; auto: one per CPU, up to 64.",
    )
    shutdown_grace: float = _key(10.0, non_negative_float, "Seconds a stop waits for requests.")
    max_wait: float = _key(60.0, non_negative_float, "Longest wait=S of a long poll, seconds.")
    idle_timeout: float = _key(60.0, positive_float, "Seconds an idle connection stays open.")
    header_timeout: float = _key(10.0, positive_float, "Seconds a request's headers may take.")
    body_timeout: float = _key(60.0, positive_float, "Seconds a request's body may take.")
    idempotency_window: float = _key(
        3600.0, positive_float, "Seconds an Idempotency-Key is remembered."
    )
    delivery_timeout: float = _key(
        30.0,
        positive_float,
        "Seconds a job taken for good waits for its answer to be written before it comes back.",
    )
    allowed_hosts: tuple[str, ...] = _key(
        ("localhost", "127.0.0.1", "::1"),
        words,
        "The host names requests may name (Host, and a browser's Origin); * for any.",
    )
    cors_origins: tuple[str, ...] = _key(
        (), origins, "Origins of browser pages that may call the API (CORS); * for any."
    )


@dataclass(frozen=True)
class RedisSettings:
    """
    [redis]: where the state lives. A Redis server given by URL, or, when
    C{address} is None, a private redis-server that presque starts in C{data_dir}.
    """

    address: RedisAddress | None = _key(
        None,
        optional_redis_url,
        "redis://, rediss:// (TLS) or unix:// URL; empty: the embedded server (without sentinels).",
        "url",
    )
    sentinels: tuple[tuple[str, int], ...] = _key(
        (),
        host_ports,
        "Redis Sentinels (host:port ...) that name the master; url then gives only its"
        " credentials, database and TLS.",
    )
    master_name: str = _key("", str.strip, "The master's name for the sentinels.")
    cluster: tuple[tuple[str, int], ...] = _key(
        (),
        host_ports,
        "Nodes of a Redis Cluster (host:port ...) to learn its map from; url then gives only"
        " its credentials and TLS.",
    )
    sentinel_username: str | None = _key(None, optional_text, "The sentinels' user, if any.")
    sentinel_password: str | None = _key(None, optional_text, "The sentinels' password, if any.")
    min_replicas: int = _key(
        0,
        non_negative_int,
        "Replicas that must confirm every change before it is answered (WAIT); 0: none.",
    )
    replica_timeout: float = _key(
        1.0, positive_float, "Seconds replicas may take to confirm; longer: 503."
    )
    data_dir: Path = _key(Path("var/redis"), Path, "The embedded server's data directory.")
    appendfsync: str = _key("everysec", appendfsync, "The embedded server's fsync policy.")
    pool_size: int = _key(4, positive_int, "Connections to Redis.")
    command_timeout: float = _key(5.0, positive_float, "Seconds before a Redis call gives up.")
    connect_timeout: float = _key(2.0, positive_float, "Seconds for one connection attempt.")
    producer_memory_share: float = _key(
        0.9,
        share,
        "Past this share of Redis' maxmemory, posts get 429 while consumers drain; 1: never.",
    )
    tls_ca_file: Path | None = _key(
        None, optional_path, "rediss://: PEM authorities to trust; empty: the system's."
    )
    tls_cert_file: Path | None = _key(
        None, optional_path, "rediss://: the client's PEM certificate, if Redis asks for one."
    )
    tls_key_file: Path | None = _key(None, optional_path, "rediss://: the client's PEM key.")
    prefix: str = _key(
        DEFAULT_PREFIX,
        check_prefix,
        "What every key and channel starts with: deployments with other prefixes share the"
        " Redis database without seeing each other's queues.",
    )

    def check(self) -> None:
        """
        Refuse settings that would be ignored or cannot work together.

        @raise KeysClash: sentinels without a master_name or with a unix://
            URL; min_replicas with the embedded server; TLS files without a
            rediss:// URL, or one of the client's
            certificate and key without the other.
        """
        if self.cluster and self.sentinels:
            raise KeysClash(
                ("cluster", "sentinels"),
                "cluster and sentinels exclude each other: a cluster fails over itself",
            )
        if self.cluster and self.address and (self.address.unix_path or self.address.db):
            raise KeysClash(
                ("cluster", "url"),
                "a cluster is reached by host and port, database 0: url cannot say otherwise",
            )
        if self.sentinels and not self.master_name:
            raise KeysClash(
                ("sentinels", "master_name"),
                "sentinels need the master_name they know the master by",
            )
        if self.sentinels and self.address and self.address.unix_path:
            raise KeysClash(
                ("sentinels", "url"),
                "sentinels name a master by host and port: url cannot be unix://",
            )
        if self.min_replicas and not (self.sentinels or self.cluster) and self.address is None:
            raise KeysClash(
                ("min_replicas", "url"),
                "min_replicas needs a Redis with replicas (url, sentinels or cluster):"
                " the embedded one has none",
            )
        files = {
            "tls_ca_file": self.tls_ca_file,
            "tls_cert_file": self.tls_cert_file,
            "tls_key_file": self.tls_key_file,
        }
        given = tuple(name for name, path in files.items() if path)
        if given and not (self.address and self.address.tls):
            raise KeysClash(
                (*given, "url"), "tls_* files need a rediss:// url (in [redis] url or --redis)"
            )
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise KeysClash(
                ("tls_cert_file", "tls_key_file"), "tls_cert_file and tls_key_file go together"
            )


@dataclass(frozen=True)
class SchedulerSettings:
    """[scheduler]: background work every server does."""

    interval: float = _key(1.0, positive_float, "Seconds between two rounds of due work.")


@dataclass(frozen=True)
class WorkerSettings:
    """[workers]: how workers are watched."""

    alive_window: float = _key(60.0, positive_float, "A worker seen this recently is alive.")
    retention: float = _key(
        86400.0, positive_float, "Seconds a worker's record outlives its last request."
    )


@dataclass(frozen=True)
class HistorySettings:
    """[history]: the per-minute samples of each queue, for charts."""

    max_queues: int = _key(200, positive_int, "Queues sampled, the first in name order.")
    retention: float = _key(
        7 * 86400.0, positive_float, "Seconds a sample is kept (7 days: 10,080 samples)."
    )


@dataclass(frozen=True)
class MetricsSettings:
    """[metrics]: what GET /metrics reports, and how much it may cost."""

    max_queues: int = _key(
        200, positive_int, "Queues with labels of their own; the others count together."
    )
    cache: float = _key(
        2.0, non_negative_float, "Seconds the figures read from Redis serve every scrape."
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
    #: The file these settings were read from, if any: errors found later name it.
    source: Path | None = field(default=None, compare=False, metadata={"source": True})

    def with_overrides(self, listen: tuple[str, ...] = (), redis_url: str | None = None) -> Config:
        """
        Apply the command-line options, which win over the file, and check
        what the file and the options say together.
        """
        config = self
        if listen:
            for endpoint in listen:
                _parse("--listen", lambda endpoint=endpoint: check_endpoint(endpoint))
            config = replace(config, server=replace(config.server, listen=tuple(listen)))
        if redis_url is not None:
            address = _parse("--redis", lambda: parse_redis_url(redis_url))
            config = replace(config, redis=replace(config.redis, address=address))
        try:
            config.redis.check()
        except KeysClash as clash:
            # A key the command line gave is named as such.
            keys = [
                "url (--redis)" if key == "url" and redis_url is not None else key
                for key in clash.keys
            ]
            raise config_error(self.source, "redis", keys, clash.why) from None
        return config


def sections() -> dict[str, tuple[Field[Any], ...]]:
    """Every section of the file, by name, with the declaration of each of its keys
    (but the [token:NAME] sections, see L{presque.auth})."""
    return {section.name: fields(section.default_factory()) for section in _sections()}


def _sections() -> list[Field[Any]]:
    return [
        section
        for section in fields(Config)
        if "sections" not in section.metadata and "source" not in section.metadata
    ]


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
    return _integer if is_count(declared) else non_negative_float


class _Reader:
    def __init__(self, path: Path, parser: configparser.ConfigParser) -> None:
        self.path = path
        self.parser = parser

    def _read(self, section: str, declared: Field[Any], parse: Callable[[str], Any]) -> Any:
        raw = self.parser.get(section, key_name(declared))
        try:
            return parse(raw)
        except ValueError as error:
            raise config_error(self.path, section, [key_name(declared)], error) from None

    def _check_known(self) -> None:
        known = sections()
        for section in self.parser.sections():
            if section.startswith(TOKEN_SECTION):
                continue  # checked as it is read
            if section not in known:
                raise config_error(self.path, section, [], "unknown section")
            keys = {key_name(declared) for declared in known[section]}
            for key in self.parser.options(section):
                if key not in keys:
                    raise config_error(self.path, section, [key], "unknown key")

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
        return Config(**values, source=self.path)

    def _tokens(self) -> tuple[Token, ...]:
        tokens: list[Token] = []
        sections_of: dict[bytes, str] = {}
        for section in self.parser.sections():
            if not section.startswith(TOKEN_SECTION):
                continue
            try:
                token = token_from_section(
                    section[len(TOKEN_SECTION) :], dict(self.parser.items(section))
                )
            except KeysError as error:
                raise keys_error(self.path, section, error) from None
            if token.digest in sections_of:
                # Its secret would be either token: which one it is, a guess.
                raise config_error(
                    self.path,
                    section,
                    ["sha256"],
                    f"the same as [{sections_of[token.digest]}]'s:"
                    " each token needs a secret of its own",
                )
            sections_of[token.digest] = section
            tokens.append(token)
        return tuple(tokens)

    def _queue_settings(self) -> QueueSettings:
        changes = {}
        for declared in setting_fields():
            if not self.parser.has_option("queues", declared.name):
                continue
            value = self._read("queues", declared, _queue_setting_parser(declared))
            try:
                check_setting(declared, value)
            except ValueError as error:
                # The message starts with the setting's name, which the key says already.
                message = str(error).removeprefix(f"{declared.name} ")
                raise config_error(self.path, "queues", [declared.name], message) from None
            changes[declared.name] = value
        try:
            return QueueSettings().updated(changes)
        except ValueError as error:
            # Each key is usable alone: what is left is a rule between keys,
            # whose message names them.
            named = [
                declared.name
                for declared in setting_fields()
                if re.search(rf"\b{declared.name}\b", str(error))
            ]
            raise config_error(self.path, "queues", named, error) from None
