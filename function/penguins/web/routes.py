"""The route table: every path the function serves, with its methods; anything else is a 404 or a 405 from here."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple

from ..errors import MethodNotAllowed, NotFound

Handler = Callable[..., Awaitable[tuple]]


class Route(NamedTuple):
    """A path (segments in braces are parameters, e.g. /v2/models/{model}) and its handler per method."""

    path: str
    methods: dict[str, Handler]


class Router:
    """Finds a request's handler: exact paths by one lookup, paths with parameters by pattern after them."""

    def __init__(self, routes: Iterable[Route], not_found: Callable[[str], NotFound]):
        self._exact: dict[str, dict[str, Handler]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Handler]]] = []
        for route in routes:
            if "{" in route.path:
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path)
                self._patterns.append((re.compile(f"^{pattern}$"), route.methods))
            else:
                self._exact[route.path] = route.methods
        self._not_found = not_found

    def find(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """The handler and the path's parameters; NotFound or MethodNotAllowed (with Allow) otherwise."""
        methods, params = self._exact.get(path), {}
        if methods is None:
            for pattern, candidate in self._patterns:
                match = pattern.match(path)
                if match:
                    methods, params = candidate, match.groupdict()
                    break
            else:
                raise self._not_found(path)
        handler = methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            allowed = ", ".join(methods)
            raise MethodNotAllowed.at(
                ["method"], f"{path} accepts {allowed}, not {method}", "method_not_allowed", {"Allow": allowed}
            )
        return handler, params
