"""
GET /openapi.json: the document describes exactly the route table, is valid
OpenAPI 3.1, names only schemas it holds, and a real daemon answers the
schemathesis fuzzer generated from it without a single failed check.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pytest_twisted import ensureDeferred as async_test

import presque.web
from harness.redis import RedisServer
from presque.config import ServerSettings
from presque.web.context import Context
from presque.web.routing import QUEUE, REST
from tests.support import Daemons, Http

SCHEMATHESIS_CONFIG = Path(__file__).resolve().with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
#: Test cases per operation: about a minute of fuzzing on two cores.
MAX_EXAMPLES = 100
SEED = 7
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMPONENT = "#/components/schemas/"


async def openapi_document(http: Http) -> dict[str, Any]:
    reply = await http.get("/openapi.json")
    assert reply.status == 200
    return reply.json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each (METHOD, path, operation) of the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def table_operations() -> set[tuple[str, str]]:
    """The (method, path) pairs of the route table, as the document must describe them."""
    routes = presque.web.all_routes(Context(None, ServerSettings(), None))
    expected = set()
    for route in routes:
        if route.path.endswith(REST):
            prefix = route.path[: -len(REST)]
            expected |= {(route.method, prefix), (route.method, prefix + QUEUE)}
        else:
            expected.add((route.method, route.path))
    return expected


def refs(node: Any) -> Iterator[str]:
    """Every $ref anywhere under C{node}."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


# the document


@async_test
async def test_openapi_json_is_an_openapi_3_1_document(http: Http) -> None:
    reply = await http.get("/openapi.json")
    assert reply.status == 200
    assert reply.json()["openapi"] == "3.1.0"


@async_test
async def test_the_document_describes_exactly_the_routes_of_the_table(http: Http) -> None:
    document = await openapi_document(http)
    described = {(method, path) for method, path, _ in operations(document)}
    assert described == table_operations()


@async_test
async def test_every_operation_documents_its_400_and_503_answers(http: Http) -> None:
    document = await openapi_document(http)
    missing = [
        (method, path, status)
        for method, path, operation in operations(document)
        for status in ("400", "503")
        if status not in operation["responses"]
    ]
    assert missing == []


@async_test
async def test_each_guarded_operation_names_its_scope_and_its_401_and_403(http: Http) -> None:
    document = await openapi_document(http)
    scopes = {}
    for method, path, operation in operations(document):
        for requirement in operation.get("security", []):
            if requirement:
                scopes[(method, path)] = requirement["token"]
                assert {"401", "403", "421"} <= set(operation["responses"]), (method, path)
    assert scopes[("POST", "/q/{queue}")] == ["produce"]
    assert scopes[("GET", "/metrics")] == ["read"]
    assert scopes[("DELETE", "/q/{queue}")] == ["admin"]
    assert ("GET", "/health") not in scopes and ("GET", "/openapi.json") not in scopes
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


@async_test
async def test_every_query_argument_has_a_schema(http: Http) -> None:
    document = await openapi_document(http)
    arguments = [
        (method, path, parameter)
        for method, path, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
    assert arguments, "no operation takes a query argument"
    unschemed = [
        (method, path, parameter["name"])
        for method, path, parameter in arguments
        if not isinstance(parameter.get("schema"), dict) or not parameter["schema"]
    ]
    assert unschemed == []


@async_test
async def test_the_document_is_valid_openapi_3_1(http: Http) -> None:
    # Neither openapi_spec_validator nor jsonschema is installed; schemathesis
    # brings jsonschema_rs and the OpenAPI 3.1 schema it checks documents with.
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    document = await openapi_document(http)
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    errors = [
        f"{list(error.instance_path)}: {error.message}" for error in validator.iter_errors(document)
    ]
    assert errors == []


@async_test
async def test_every_schema_of_the_document_is_valid_json_schema_2020_12(http: Http) -> None:
    document = await openapi_document(http)
    schemas = {f"components/{name}": s for name, s in document["components"]["schemas"].items()}
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schemas[f"{method} {path} {parameter['name']}"] = parameter["schema"]
    draft = "https://json-schema.org/draft/2020-12/schema"
    invalid = [
        where
        for where, schema in schemas.items()
        if not jsonschema_rs.meta.is_valid({"$schema": draft, **schema})
    ]
    assert invalid == []


@async_test
async def test_every_schema_the_document_names_is_in_its_components(http: Http) -> None:
    document = await openapi_document(http)
    named = set(refs(document))
    assert named, "the document names no schema"
    assert all(ref.startswith(COMPONENT) for ref in named), named
    components = document["components"]["schemas"]
    assert {ref.removeprefix(COMPONENT) for ref in named} - components.keys() == set()


@async_test
async def test_every_response_schema_is_in_the_components(http: Http) -> None:
    document = await openapi_document(http)
    components = document["components"]["schemas"]
    missing = [
        (method, path, status, ref)
        for method, path, operation in operations(document)
        for status, answer in operation["responses"].items()
        for ref in refs(answer)
        if ref.removeprefix(COMPONENT) not in components
    ]
    assert missing == []


# the fuzzer


def fuzz_config(workdir: Path) -> Path:
    config = workdir / "presque.ini"
    config.write_text("[server]\nmax_wait = 0.1\naccess_log = no\n")
    return config


def only(directory: Path, pattern: str) -> Path:
    (found,) = directory.glob(pattern)
    return found


@pytest.mark.timeout(300)
def test_a_daemon_passes_every_schemathesis_check(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(tmp_path, "--redis", clean_redis.url, config=fuzz_config(tmp_path))
    reports = tmp_path / "reports"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(SCHEMATHESIS_CONFIG),
        "run",
        f"{daemon.url}/openapi.json",
        # A stream never ends.
        "--exclude-path",
        "/sse/{queue}",
        "--max-examples",
        str(MAX_EXAMPLES),
        # More workers trip an internal hypothesis error ("AST recursion").
        "--workers",
        "1",
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json,har",
        "--report-dir",
        str(reports),
    ]
    started = time.monotonic()
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=280)
    duration = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]

    report = json.loads(only(reports, "json-*.json").read_text())
    cases = report["test_cases"]
    assert (cases["with_failures"], cases["errored"]) == (0, 0), output[-6000:]
    assert report["operations"]["tested"] == report["operations"]["selected"] > 0
    entries = json.loads(only(reports, "har-*.json").read_text())["log"]["entries"]
    classes = collections.Counter(f"{entry['response']['status'] // 100}xx" for entry in entries)
    assert classes["2xx"] > 0, classes
    print(
        f"schemathesis: {cases['generated']} cases generated, {len(entries)} requests"
        f" ({', '.join(f'{n} {c}' for c, n in sorted(classes.items()))})"
        f" on {report['operations']['tested']} operations in {duration:.0f} s,"
        f" seed {SEED}, max-examples {MAX_EXAMPLES}"
    )
    assert "Traceback" not in daemon.log.read_text()
