"""
The Klein application: the route modules of the colder routes mounted on
one app, and the errors that no route answers itself turned into JSON.
"""

from __future__ import annotations

from klein import Klein
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from presque.broker import Broker
from presque.web import control, dashboard, dead, queues, status, workers
from presque.web.inputs import Limits
from presque.web.responses import error_response, failure_response


def build_app(broker: Broker, limits: Limits) -> Klein:
    """
    Every route but C{/q/} and C{/qb/} (see L{presque.web.root}).

    Klein names each route after its handler function, so every handler
    name must be unique across the route modules.
    """
    app = Klein()
    for module in (status, control, workers, dead, queues):
        module.add_routes(app, broker, limits)
    dashboard.add_routes(app, broker)
    _check_unique_handlers(app)

    @app.handle_errors(NotFound)
    def not_found(request: IRequest, failure: Failure) -> bytes:
        return error_response(request, 404, "not found")

    @app.handle_errors(MethodNotAllowed)
    def method_not_allowed(request: IRequest, failure: Failure) -> bytes:
        allowed = failure.value.valid_methods or []
        request.setHeader(b"Allow", ", ".join(allowed))
        return error_response(request, 405, "method not allowed")

    @app.handle_errors(RequestRedirect)
    def moved(request: IRequest, failure: Failure) -> bytes:
        # werkzeug redirects /status to /status/; 308 keeps the method and body.
        request.setHeader(b"Location", failure.value.new_url)
        return error_response(request, 308, f"moved to {failure.value.new_url}")

    @app.handle_errors(Exception)
    def route_error(request: IRequest, failure: Failure) -> bytes:
        return failure_response(request, failure)

    return app


def _check_unique_handlers(app: Klein) -> None:
    rules = list(app.url_map.iter_rules())
    if len(rules) != len({rule.endpoint for rule in rules}):
        names = sorted(rule.endpoint for rule in rules)
        raise RuntimeError(f"two routes share a handler name: {names}")
