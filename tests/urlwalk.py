"""Every URL pattern the project serves, flattened, for tests that must cover them all."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    callback: object


def all_routes() -> list[Route]:
    routes = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = (namespace + ":" if namespace else "") + entry.namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                name = entry.name or ""
                if namespace and name:
                    name = namespace + ":" + name
                routes.append(Route(prefix + str(entry.pattern), name, entry.callback))

    walk(get_resolver().url_patterns, "", "")
    return routes
