"""Lines of an import, read as the commands of the public API they are.

A line names a command by its method and path (``POST /v1/issues/{id}/assign``) and carries its
body, when it occurred, who did it and, for a create, the id the new object gets. It is matched
against the command API's own routes and run through the route's own code: the body is validated
by the route's model and the route makes the action, exactly as for a live request, except that
the action is handed back to the importer instead of being run. There is no second table of
commands to keep in step with the API.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import orjson
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.commands import Tick
from contracts.inputs import canonical_uuid
from domain.catalog import Aggregate
from services.command.handler import Action
from services.infrastructure.http import ProblemError
from services.infrastructure.ids import choosing
from services.infrastructure.parameters import moment_of

API_PREFIX = "/v1"
# The scheduler's tick is a command of the API, but not one route's action: the importer runs it
# itself, at the line's time (see ``Importer``).
TICK = ("POST", "/operations/tick")
_FIELDS = frozenset({"command", "body", "occurred_at", "actor_id", "id"})


@dataclass(frozen=True)
class LineCommand:
    """A line made ready to run: its action (``None`` for a tick), its time and actor."""

    number: int
    method: str
    path: str
    occurred_at: datetime
    actor_id: UUID | None
    action: Action | None
    target: tuple[Aggregate[Any, Any, Any], UUID] | None = None
    tick_until: date | None = None

    @property
    def is_tick(self) -> bool:
        return self.action is None


class _Captured:
    """What a route's call to ``run`` hands over: the action, and the object it targets."""

    def __init__(self) -> None:
        self.action: Action | None = None
        self.target: tuple[Aggregate[Any, Any, Any], UUID] | None = None

    def __call__(
        self,
        action: Action,
        *,
        target: tuple[Aggregate[Any, Any, Any], UUID] | None = None,
        payload: BaseModel | None = None,
    ) -> _Captured:
        self.action, self.target = action, target
        return self


def invalid(detail: str, field: str) -> ProblemError:
    return ProblemError(
        422, "validation_error", detail, errors=[{"field": field, "message": detail}]
    )


def validation_problem(error: ValidationError, prefix: str) -> ProblemError:
    errors = [
        {
            "field": ".".join([prefix, *(str(part) for part in detail["loc"])]).rstrip("."),
            "message": detail["msg"],
        }
        for detail in error.errors()
    ]
    return ProblemError(422, "validation_error", "the line is not valid", errors=errors)


@dataclass(frozen=True)
class _Route:
    """A command route, and how to call its endpoint with a line's path and body."""

    route: APIRoute

    @cached_property
    def _hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.route.endpoint, include_extras=True)

    @cached_property
    def _parameters(self) -> list[inspect.Parameter]:
        return list(inspect.signature(self.route.endpoint).parameters.values())

    @cached_property
    def _adapters(self) -> dict[str, TypeAdapter[Any]]:
        return {name: TypeAdapter(self._hints[name]) for name in self.route.param_convertors}

    @cached_property
    def _body(self) -> tuple[str, type[BaseModel], bool] | None:
        """The body parameter's name, model, and whether it may be left out."""
        for parameter in self._parameters:
            hint = self._hints[parameter.name]
            options = typing.get_args(hint) if typing.get_origin(hint) is not None else (hint,)
            for option in options:
                if isinstance(option, type) and issubclass(option, BaseModel):
                    return parameter.name, option, parameter.default is None
        return None

    def capture(self, path_values: Mapping[str, str], body: Any) -> _Captured:
        arguments: dict[str, Any] = {}
        for name, adapter in self._adapters.items():
            try:
                arguments[name] = adapter.validate_python(path_values[name])
            except ValidationError:
                raise invalid(f"{name} in the path is not valid", name) from None
        described = self._body
        if described is not None:
            name, model, optional = described
            if body is None and optional:
                arguments[name] = None
            else:
                try:
                    arguments[name] = model.model_validate_json(orjson.dumps(body or {}))
                except ValidationError as error:
                    raise validation_problem(error, "body") from None
        elif body not in (None, {}):
            raise invalid("this command takes no body", "body")
        captured = _Captured()
        arguments["run"] = captured
        self.route.endpoint(**arguments)
        return captured


class CommandCatalog:
    """The command routes, to find a line's route by its method and path."""

    def __init__(self, routes: Sequence[APIRoute]) -> None:
        # By the path's first segment ("issues"), so a line is matched against a few routes.
        self._routes: dict[str, list[_Route]] = {}
        for route in routes:
            self._routes.setdefault(_resource(route.path), []).append(_Route(route))

    def parse(self, number: int, raw: Any, now: datetime) -> LineCommand:
        """A line made ready to run; a ``ProblemError`` says what is wrong with it."""
        if not isinstance(raw, dict):
            raise ProblemError(422, "validation_error", "a line must be a JSON object")
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise invalid(f"unknown field {unknown[0]!r}", unknown[0])
        method, path = _command(raw.get("command"))
        occurred_at = _occurred_at(raw.get("occurred_at"), now)
        actor_id = _uuid(raw.get("actor_id"), "actor_id", optional=True)
        chosen = _uuid(raw.get("id"), "id", optional=True)
        body = raw.get("body")
        if body is not None and not isinstance(body, dict):
            raise invalid("body must be a JSON object", "body")
        local = path.removeprefix(API_PREFIX)
        if (method, local) == TICK:
            if chosen is not None:
                raise invalid("a tick creates no object to name", "id")
            try:
                tick = Tick.model_validate_json(orjson.dumps(body or {}))
            except ValidationError as error:
                raise validation_problem(error, "body") from None
            return LineCommand(number, method, path, occurred_at, actor_id, None, None, tick.until)
        route, values = self._match(method, local, path)
        with choosing(chosen) as unclaimed:
            captured = route.capture(values, body)
        if chosen is not None and unclaimed:
            raise invalid("only a command that creates an object takes an id", "id")
        assert captured.action is not None
        return LineCommand(
            number, method, path, occurred_at, actor_id, captured.action, captured.target
        )

    def _match(self, method: str, local: str, path: str) -> tuple[_Route, dict[str, str]]:
        allowed = False
        for candidate in self._routes.get(_resource(local), ()):
            found = candidate.route.path_regex.match(local)
            if found is None:
                continue
            if method in (candidate.route.methods or ()):
                return candidate, found.groupdict()
            allowed = True
        if allowed:
            raise invalid(f"{path} takes no {method}", "command")
        raise ProblemError(
            422,
            "validation_error",
            f"no command of the API is {method} {path}",
            errors=[{"field": "command", "message": "not a command of the API"}],
        )


def _resource(path: str) -> str:
    return path.split("/", 2)[1] if path.count("/") else path


def _command(value: Any) -> tuple[str, str]:
    if not isinstance(value, str) or value.count(" ") != 1:
        raise invalid('command must be "<METHOD> <path>", such as "POST /v1/issues"', "command")
    method, path = value.split(" ")
    if not path.startswith(API_PREFIX + "/"):
        raise invalid("the path must start with /v1/", "command")
    return method.upper(), path


def _occurred_at(value: Any, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise invalid("occurred_at is required: an ISO 8601 time with its zone", "occurred_at")
    try:
        moment = moment_of(value)
    except ValueError as error:
        raise invalid(f"occurred_at {error}", "occurred_at") from None
    if moment.tzinfo is None:
        raise invalid("occurred_at needs its time zone (Z or an offset)", "occurred_at")
    if moment > now:
        raise invalid("occurred_at is in the future: history has already happened", "occurred_at")
    return moment


def _uuid(value: Any, field: str, *, optional: bool) -> UUID | None:
    if value is None and optional:
        return None
    if isinstance(value, str):
        try:
            return canonical_uuid(value)
        except ValueError:
            pass
    raise invalid(f"{field} must be a UUID in its canonical form", field)
