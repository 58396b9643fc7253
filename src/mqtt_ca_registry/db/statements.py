"""Statements compiled once per dialect, whose rows come back as named tuples.

A statement built with SQLAlchemy Core is compiled once per dialect (SQL text, positional
parameter order, the column types' bind and result conversions). Each call then costs one
driver round trip (see :mod:`.dispatch`), and the ORM session, statement cache-key generation
and result objects, which cost several times the query itself, are skipped (bench/, item 1).

This is the one place where a row is read by position: each statement names the NamedTuple its
rows become, whose fields must be the statement's column labels in order (checked when the
statement is compiled), and :meth:`Prepared.projection` picks a named part of a wider row.

It leans on SQLAlchemy's compiler (``positiontup``, ``binds``, the types' bind and result
processors); tests/db/test_statements.py round-trips every column type of every table through
it on both databases, so an upgrade that changes them fails a test, not a connect.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

R = TypeVar("R", bound=tuple[Any, ...])
N = TypeVar("N", bound=tuple[Any, ...])
T = TypeVar("T")
_Convert = Callable[[Any], Any] | None


class NoRows(NamedTuple):
    """The row type of a statement that returns nothing (an UPDATE, an INSERT without
    RETURNING)."""


def _fields(row: object) -> tuple[str, ...]:
    fields = getattr(row, "_fields", None)
    if not isinstance(fields, tuple):
        raise TypeError(f"{row} is not a NamedTuple")
    return fields


def labels(statement: ClauseElement) -> tuple[str, ...]:
    """The names of a statement's result columns, in order."""
    return tuple(c.key for c in getattr(statement, "exported_columns", ()))


class Prepared(Generic[R]):
    """One Core statement compiled for one dialect, with its value conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, row: Callable[..., R]) -> None:
        columns = labels(statement)
        fields = _fields(row)
        if fields != columns:
            raise TypeError(
                f"{row} has fields {fields}, but the statement returns {columns}: "
                "make them the same names in the same order"
            )
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.implicit_returning and row is NoRows:  # an INSERT returning its key
            raise TypeError("an INSERT without rows to return needs .inline()")
        self.sql = str(compiled)
        self.columns = columns
        self._make = row
        binds = compiled.binds
        self.parameters = tuple(compiled.positiontup or ())
        self._params: list[tuple[str, _Convert]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.parameters
        ]
        self._results: list[_Convert] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in getattr(statement, "exported_columns", ())
        ]
        self._convert_results = any(convert is not None for convert in self._results)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The driver's positional parameters from named values (a missing one: KeyError)."""
        return [
            convert(values[name]) if convert is not None else values[name]
            for name, convert in self._params
        ]

    def row(self, raw: Sequence[Any]) -> R:
        """A driver row as this statement's named row, with the column types' conversions."""
        if not self._convert_results:
            return self._make(*raw)
        return self._make(
            *[
                convert(value) if convert is not None else value
                for convert, value in zip(self._results, raw, strict=True)
            ]
        )

    def projection(self, part: Callable[..., N]) -> Callable[[R], N]:
        """A function taking this statement's row to ``part``, a NamedTuple whose fields are
        some of the statement's columns (picked by name)."""
        fields = _fields(part)
        missing = [f for f in fields if f not in self.columns]
        if missing or len(fields) < 2:
            raise TypeError(f"{part} needs two or more of the statement's columns: {fields}")
        pick = operator.itemgetter(*(self.columns.index(f) for f in fields))
        return lambda row: part(*pick(row))


class PerDialect(Generic[T]):
    """What ``build(dialect)`` returns (a repository's compiled statements), built once per
    dialect and kept for the process."""

    def __init__(self, build: Callable[[Dialect], T]) -> None:
        self._build = build
        self._by_dialect: dict[str, T] = {}

    def __call__(self, dialect: Dialect) -> T:
        built = self._by_dialect.get(dialect.name)
        if built is None:
            built = self._by_dialect[dialect.name] = self._build(dialect)
        return built
