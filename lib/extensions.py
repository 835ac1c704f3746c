"""psycopg extensions to the DB-API.

This module holds the objects going beyond the DB-API 2.0: the connection
and cursor types to subclass, the adaptation system (Python objects ->
SQL literals: `adapt()`, `register_adapter()`, `ISQLQuote` and the
adapters), the typecasting system (PostgreSQL values -> Python objects:
`new_type()`, `register_type()` and the built-in typecasters), the
connection status constants and a few helper functions (`make_dsn()`,
`parse_dsn()`, `quote_ident()`...).
"""

from typing import Any as _Any, Callable as _Callable, Optional as _Optional
from typing import TYPE_CHECKING as _TYPE_CHECKING

from psycopg2 import _psycopg
from psycopg2._lb_dsn import (
    join_params as _join_params, quote_value as _quote_value)
from psycopg2._psycopg import (  # noqa: F401 (re-exported)
    # connection, cursor and their companions
    connection as connection, cursor as cursor, Column as Column,
    ConnectionInfo as ConnectionInfo, Diagnostics as Diagnostics,
    QueryCanceledError as QueryCanceledError,
    TransactionRollbackError as TransactionRollbackError,
    # adaptation
    adapt as adapt, adapters as adapters, ISQLQuote as ISQLQuote, AsIs as AsIs,
    Binary as Binary, Boolean as Boolean, Float as Float, Int as Int,
    QuotedString as QuotedString, SQL_IN as SQL_IN, NoneAdapter as NoneAdapter,
    DateFromPy as DateFromPy, TimeFromPy as TimeFromPy,
    TimestampFromPy as TimestampFromPy, IntervalFromPy as IntervalFromPy,
    # typecasting
    new_type as new_type, new_array_type as new_array_type,
    register_type as register_type, string_types as string_types,
    binary_types as binary_types,
    UNICODE as UNICODE, UNICODEARRAY as UNICODEARRAY,
    STRINGARRAY as STRINGARRAY, BOOLEAN as BOOLEAN,
    BOOLEANARRAY as BOOLEANARRAY,
    INTEGER as INTEGER, INTEGERARRAY as INTEGERARRAY,
    LONGINTEGER as LONGINTEGER, LONGINTEGERARRAY as LONGINTEGERARRAY,
    FLOAT as FLOAT, FLOATARRAY as FLOATARRAY, DECIMAL as DECIMAL,
    DECIMALARRAY as DECIMALARRAY,
    DATE as DATE, DATEARRAY as DATEARRAY, TIME as TIME, TIMEARRAY as TIMEARRAY,
    INTERVAL as INTERVAL, INTERVALARRAY as INTERVALARRAY,
    DATETIMEARRAY as DATETIMEARRAY, ROWIDARRAY as ROWIDARRAY,
    BINARYARRAY as BINARYARRAY, BYTES as BYTES, BYTESARRAY as BYTESARRAY,
    PYDATE as PYDATE, PYDATEARRAY as PYDATEARRAY, PYTIME as PYTIME,
    PYTIMEARRAY as PYTIMEARRAY,
    PYDATETIME as PYDATETIME, PYDATETIMEARRAY as PYDATETIMEARRAY,
    PYDATETIMETZ as PYDATETIMETZ, PYDATETIMETZARRAY as PYDATETIMETZARRAY,
    PYINTERVAL as PYINTERVAL, PYINTERVALARRAY as PYINTERVALARRAY,
    # helpers
    parse_dsn as parse_dsn, quote_ident as quote_ident, encodings as encodings,
    libpq_version as libpq_version, encrypt_password as encrypt_password,
    set_wait_callback as set_wait_callback,
    get_wait_callback as get_wait_callback,
)


def _import_optional(*names: str) -> None:
    """Re-export the objects of later features only if the C extension
    provides them."""
    for name in names:
        obj = getattr(_psycopg, name, None)
        if obj is not None:
            globals()[name] = obj


_import_optional("lobject", "Notify", "Xid")

if _TYPE_CHECKING:
    # Always provided by this C extension; declared for the type checkers,
    # which do not see through _import_optional().
    from psycopg2._psycopg import (  # noqa: F401
        lobject as lobject, Notify as Notify, Xid as Xid)

# Created by psycopg2.extras.register_uuid() and register_inet(), as in
# psycopg2: annotations only, the names do not exist before those calls.
UUID: _Any
UUIDARRAY: _Any
INET: _Any
INETARRAY: _Any

# Isolation levels for connection.set_isolation_level()
ISOLATION_LEVEL_AUTOCOMMIT = 0
ISOLATION_LEVEL_READ_UNCOMMITTED = 4
ISOLATION_LEVEL_READ_COMMITTED = 1
ISOLATION_LEVEL_REPEATABLE_READ = 2
ISOLATION_LEVEL_SERIALIZABLE = 3
ISOLATION_LEVEL_DEFAULT = None

# psycopg connection status values
STATUS_SETUP = 0
STATUS_READY = 1
STATUS_BEGIN = 2
STATUS_SYNC = 3             # currently unused
STATUS_ASYNC = 4            # currently unused
STATUS_PREPARED = 5

# This is a useful mnemonic to check if the connection is in a transaction
STATUS_IN_TRANSACTION = STATUS_BEGIN

# psycopg asynchronous connection polling values
POLL_OK = 0
POLL_READ = 1
POLL_WRITE = 2
POLL_ERROR = 3

# Backend transaction status values, as returned by
# connection.get_transaction_status()
TRANSACTION_STATUS_IDLE = 0
TRANSACTION_STATUS_ACTIVE = 1
TRANSACTION_STATUS_INTRANS = 2
TRANSACTION_STATUS_INERROR = 3
TRANSACTION_STATUS_UNKNOWN = 4


def register_adapter(typ: type, callable: _Callable[[_Any], _Any]) -> None:
    """Register *callable* as the `ISQLQuote` adapter of the type *typ*.

    *callable* is called with an object of type *typ* and must return an
    object exposing `!getquoted()` (e.g. an `AsIs` or a `QuotedString`).
    """
    adapters[(typ, ISQLQuote)] = callable


def _param_escape(value: str) -> str:
    """Quote a connection string value as libpq needs: backslashes and
    single quotes are escaped, empty values and values with white space
    are enclosed in single quotes."""
    return _quote_value(value)


def make_dsn(dsn: _Optional[str] = None, **kwargs: _Any) -> str:
    """Build a libpq connection string from a *dsn* and keyword arguments.

    The keyword arguments are added to the parameters of *dsn* (a
    connection string or a URI), overriding the ones with the same name;
    arguments with value None are ignored and ``database`` is an alias of
    ``dbname``.  Without keyword arguments *dsn* is returned unchanged.

    The result is checked with `parse_dsn()`: raise `ProgrammingError` if
    it is not a valid connection string, e.g. for an unknown parameter.
    """
    if dsn is None and not kwargs:
        return ""

    if not kwargs:
        parse_dsn(dsn)  # only validate it
        return dsn

    if "database" in kwargs:
        if "dbname" in kwargs:
            raise TypeError(
                "you can't specify both 'database' and 'dbname' arguments")
        kwargs["dbname"] = kwargs.pop("database")

    params = {k: v for k, v in kwargs.items() if v is not None}
    if dsn is not None:
        merged = parse_dsn(dsn)
        merged.update(params)
        params = merged

    dsn = _join_params(params)
    parse_dsn(dsn)
    return dsn


# JSON typecasters: registered globally by psycopg2._json at import.
from psycopg2._json import (  # noqa: E402,F401
    JSON, JSONARRAY, JSONB, JSONBARRAY)


def _register_default_ranges() -> None:
    """Import psycopg2._range, which registers the typecasters of the
    built-in range types, if it is part of the package."""
    try:
        import psycopg2._range  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name != "psycopg2._range":
            raise


_register_default_ranges()
