"""Option groups for the typer commands: a block of options declared once, shared by several commands.

Typer reads a command's options from its signature, so commands that take the same options would
each list them again. Here a frozen dataclass declares the block (its fields annotated like typer
parameters), and `grouped` shows typer the fields in place of the one parameter typed with it; the
command receives one instance. Help, order and defaults stay exactly what the fields say.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

Command = TypeVar("Command", bound=Callable[..., Any])


def grouped(command: Command) -> Command:
    """Expand every parameter typed with a dataclass into that dataclass's fields (put below @app.command)."""
    signature = inspect.signature(command, eval_str=True)
    groups: dict[str, tuple[type, list[str]]] = {}
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        group = parameter.annotation
        if not (isinstance(group, type) and dataclasses.is_dataclass(group)):
            parameters.append(parameter)
            continue
        hints = typing.get_type_hints(group, include_extras=True)
        fields = dataclasses.fields(group)
        groups[parameter.name] = (group, [field.name for field in fields])
        parameters += [
            inspect.Parameter(field.name, parameter.kind, default=field.default, annotation=hints[field.name])
            for field in fields
        ]

    @functools.wraps(command)
    def run(**values: Any) -> Any:
        for name, (group, fields) in groups.items():
            values[name] = group(**{field: values.pop(field) for field in fields})
        return command(**values)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
    return typing.cast(Command, run)
