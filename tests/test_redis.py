"""The Redis connection: scripts by SHA, commands and replies untouched."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from harness.polling import eventually
from harness.redis import RedisServer
from presque.broker.scripts import load_script
from presque.cluster import RedisCluster
from presque.redis import Redis, RedisClient, quick_commands
from presque.redis_url import RedisAddress, parse_redis_url
from tests.conftest import Presque, start_presque


@async_test
async def test_scripts_flushed_from_redis_are_sent_again(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    presque.redis_server.command("SCRIPT", "FLUSH")
    assert (await presque.http.post_job("q1", {"n": 2})).status == 201
    assert (await presque.http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_replies_are_bytes_never_numbers(presque: Presque) -> None:
    await presque.broker.redis.execute("SET", "presque:test", "00123")
    assert await presque.broker.redis.execute("GET", "presque:test") == b"00123"


def test_a_script_carries_the_sha_redis_knows_it_by(redis_server: RedisServer) -> None:
    script = load_script("fetch")
    assert redis_server.command("SCRIPT", "LOAD", script.source.decode()).strip() == (script.sha)


def test_commands_are_written_as_txredisapi_writes_them() -> None:
    import txredisapi

    def encoder(protocol: type) -> object:
        connection = protocol.__new__(protocol)
        connection.charset, connection.errors = None, "strict"
        return connection

    args = ("EVALSHA", b"\x00\xff", "caf\u00e9", "", 0, -7, 2**70, 1.5, 1e-7, bytearray(b"ab"))
    ours = encoder(quick_commands(txredisapi.RedisProtocol))._build_command(*args)
    assert ours == encoder(txredisapi.RedisProtocol)._build_command(*args)


@async_test
async def test_binary_arguments_reach_redis_byte_for_byte(presque: Presque) -> None:
    value = bytes(range(256)) + "é".encode() + b"\r\n$3\r\n"
    await presque.broker.redis.execute("SET", "presque:test", value)
    assert await presque.broker.redis.execute("GET", "presque:test") == value


@async_test
async def test_a_redis_with_a_password_is_served() -> None:
    redis = RedisServer(None, "everysec", "--requirepass", "s3cret").start()
    try:
        url = f"redis://:s3cret@127.0.0.1:{redis.port}/1"
        server, stop = await start_presque(redis, redis_url=url)
        try:
            assert (await server.http.post_job("q1", {"n": 1})).status == 201
            assert (await server.http.get("/q/q1")).json() == {"n": 1}
        finally:
            await stop()
    finally:
        redis.stop()


@async_test
async def test_a_wrong_password_stops_the_pool_from_reconnecting() -> None:
    redis = RedisServer(None, "everysec", "--requirepass", "s3cret").start()
    client = Redis(parse_redis_url(f"redis://:wrong@127.0.0.1:{redis.port}/0"))
    try:
        client.connect()
        await eventually(lambda: client._pool._factory.stopped, 5, "the pool kept trying")
        assert not client.connected
    finally:
        await client.close()
        redis.stop()


@async_test
async def test_the_calls_of_one_reactor_turn_share_a_connection(presque: Presque) -> None:
    redis = presque.broker.redis
    await eventually(lambda: len(redis._live_connections()) == redis.pool_size)
    one_turn = [redis.execute("CLIENT", "ID") for _ in range(3)]
    ids = [await call for call in one_turn]
    assert len(set(ids)) == 1


@async_test
async def test_each_reactor_turn_takes_the_next_connection(presque: Presque) -> None:
    redis = presque.broker.redis
    await eventually(lambda: len(redis._live_connections()) == redis.pool_size)
    ids = {await redis.execute("CLIENT", "ID") for _ in range(redis.pool_size)}
    assert len(ids) == redis.pool_size


def test_one_server_and_a_cluster_offer_what_the_broker_calls_redis_through() -> None:
    one = Redis(RedisAddress())
    cluster = RedisCluster([RedisAddress()], Redis, reactor=None)
    assert isinstance(one, RedisClient)
    assert isinstance(cluster, RedisClient)
