"""The store's own SELECTs, run as plain sqlite3: compiled once, decoded by the tables' own types.

Through SQLAlchemy a small indexed read costs ≈ 70 µs of execution machinery (compiled-cache
lookup, execution context, result set) around ≈ 9 µs of SQLite. A `PlainQuery` keeps what is worth
keeping and drops the rest: the SQL is compiled once, at import, from the very statement the
SQLAlchemy path runs, so both paths query alike and a renamed column fails on either; values
are converted by the bind and result processors SQLAlchemy derives from the column types in
storage/tables.py — except times, converted in C to and from the very same text — so a datetime
comes back as the same aware UTC value on both paths.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from storage.tables import UTCDateTime, as_utc

# Named parameters, so a query's values can be passed as the dict the repositories build.
DIALECT = SQLiteDialect_pysqlite(paramstyle="named")

Convert = Callable[[Any], Any]
Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PlainQuery:
    """One SELECT, ready for sqlite3; rows come back with attributes named like its columns."""

    sql: str
    # Values the statement carries itself (e.g. the `1` of `WHERE id = 1`).
    fixed: Mapping[str, Any]
    # Parameters whose column type converts them on the way in (datetimes, booleans).
    converts: tuple[tuple[str, Convert], ...]
    decode: Callable[[Iterable[Any]], Any]

    def one(self, conn: sqlite3.Connection, params: Params | None = None) -> Any | None:
        row = conn.execute(self.sql, self._bind(params)).fetchone()
        return None if row is None else self.decode(row)

    def all(self, conn: sqlite3.Connection, params: Params | None = None) -> list[Any]:
        return [self.decode(row) for row in conn.execute(self.sql, self._bind(params))]

    def _bind(self, params: Params | None) -> dict[str, Any]:
        # A parameter left out stays out: sqlite3 then refuses the query instead of binding NULL.
        values = {**self.fixed, **params} if params else dict(self.fixed)
        for name, convert in self.converts:
            if name in values:
                values[name] = convert(values[name])
        return values


def plain(stmt: Select[Any]) -> PlainQuery:
    """`stmt` compiled for SQLite, with its conversions taken from its column types."""
    compiled = stmt.compile(dialect=DIALECT)
    assert isinstance(compiled, SQLCompiler)
    binds = {name: compiled.binds[name] for name in compiled.params}
    converts = tuple(
        (name, convert)
        for name, bind in binds.items()
        if (convert := _bind_converter(bind.type)) is not None
    )
    return PlainQuery(
        sql=compiled.string,
        fixed={name: bind.value for name, bind in binds.items() if not bind.required},
        converts=converts,
        decode=_decoder(stmt),
    )


def _decoder(stmt: Select[Any]) -> Callable[[Iterable[Any]], Any]:
    """Raw sqlite3 row → a named tuple, each value converted as its column's type says."""
    columns = list(stmt.selected_columns)
    row_type = namedtuple("PlainRow", [column.key for column in columns])  # type: ignore[misc]
    make: Callable[[Iterable[Any]], Any] = row_type._make
    converts = [
        (index, convert)
        for index, column in enumerate(columns)
        if (convert := _result_converter(column.type))
    ]
    if not converts:
        return make

    def decode(raw: Iterable[Any]) -> Any:
        values = list(raw)
        for index, convert in converts:
            values[index] = convert(values[index])
        return make(values)

    return decode


def _bind_converter(column_type: TypeEngine[Any]) -> Convert | None:
    if isinstance(column_type, UTCDateTime):
        return utc_to_text
    return column_type.dialect_impl(DIALECT).bind_processor(DIALECT)


def _result_converter(column_type: TypeEngine[Any]) -> Convert | None:
    if isinstance(column_type, UTCDateTime):
        return utc_from_text
    return column_type.dialect_impl(DIALECT).result_processor(DIALECT, None)


# Times are the values a card reads most. SQLAlchemy converts them with a regular expression
# and a format string; the same text goes through C here: `YYYY-MM-DD HH:MM:SS.ffffff`, UTC,
# exactly as storage/tables.py's UTCDateTime stores it on SQLite (a test holds both to it).


def utc_to_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def utc_from_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)
