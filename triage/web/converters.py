"""URL converters: every `<int:…>` id in a route is bounded by what the database can hold, so a
number too large for an INTEGER column is an unknown page (404), not an overflow (500)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1  # the ids are INTEGER columns: 32 bits in PostgreSQL


class BoundedInt(IntegerConverter):
    """`int`, refusing anything above ID_MAX unless a route asks for another `max`."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def register(app: Flask) -> None:
    """Replace Flask's `int` converter; call before the blueprints are registered."""
    app.url_map.converters["int"] = BoundedInt
