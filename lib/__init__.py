"""A PostgreSQL database adapter for Python, with YugabyteDB load balancing.

psycopg2 is a DB-API 2.0 compliant driver: `connect()` returns a
`~psycopg2.extensions.connection`, whose cursors execute queries and return
the results converted to Python objects.  This implementation is a drop-in
replacement of psycopg2 2.9 whose `connect()` can also spread connections
over the nodes of a YugabyteDB cluster (``load_balance=true``, see
`psycopg2.loadbalance`).

Example::

    >>> import psycopg2
    >>> conn = psycopg2.connect("dbname=test user=postgres")
    >>> cur = conn.cursor()
    >>> cur.execute("SELECT %s + %s", (1, 2))
    >>> cur.fetchone()
    (3,)

Importing the package configures no logging handler and starts no thread.
"""

from typing import Any as _Any, Callable as _Callable, Optional as _Optional
from typing import TypeVar as _TypeVar, overload as _overload

from psycopg2._psycopg import (  # noqa: F401 (re-exported)
    BINARY as BINARY, NUMBER as NUMBER, STRING as STRING, DATETIME as DATETIME,
    ROWID as ROWID,
    Binary as Binary, Date as Date, Time as Time, Timestamp as Timestamp,
    DateFromTicks as DateFromTicks, TimeFromTicks as TimeFromTicks,
    TimestampFromTicks as TimestampFromTicks,
    Error as Error, Warning as Warning, DataError as DataError,
    DatabaseError as DatabaseError, ProgrammingError as ProgrammingError,
    IntegrityError as IntegrityError, InterfaceError as InterfaceError,
    InternalError as InternalError, NotSupportedError as NotSupportedError,
    OperationalError as OperationalError,
    _connect as _connect, apilevel as apilevel, threadsafety as threadsafety,
    paramstyle as paramstyle,
    __version__ as __version__, __libpq_version__ as __libpq_version__,
)

# Fills _psycopg.sqlstate_errors: from now on the server errors are raised
# as the specific psycopg2.errors classes.
from psycopg2 import errors  # noqa: F401
from psycopg2 import extensions as _ext

# Registers the json/jsonb typecasters, as psycopg2 does.
from psycopg2 import _json  # noqa: F401

# Connection parameters handled by psycopg2.loadbalance rather than libpq
# (declared in psycopg2._lb_props, a light module).
from psycopg2._lb_props import (  # noqa: E402,F401
    PROPERTY_NAMES as _LB_PROPERTY_NAMES,
    mentions_properties as _mentions_load_balancing)


_ConnectionT = _TypeVar("_ConnectionT", bound="_ext.connection")


@_overload
def connect(dsn: _Optional[str] = None, connection_factory: None = None,
            cursor_factory: _Optional[_Callable[..., _Any]] = None,
            **kwargs: _Any) -> "_ext.connection": ...


@_overload
def connect(dsn: _Optional[str] = None, *,
            connection_factory: _Callable[..., _ConnectionT],
            cursor_factory: _Optional[_Callable[..., _Any]] = None,
            **kwargs: _Any) -> _ConnectionT: ...


@_overload
def connect(dsn: _Optional[str],
            connection_factory: _Callable[..., _ConnectionT],
            cursor_factory: _Optional[_Callable[..., _Any]] = None,
            **kwargs: _Any) -> _ConnectionT: ...


def connect(dsn: _Optional[str] = None,
            connection_factory: _Optional[_Callable[..., _Any]] = None,
            cursor_factory: _Optional[_Callable[..., _Any]] = None,
            **kwargs: _Any) -> _Any:
    """Create a new database connection.

    The connection parameters can be specified as a libpq connection
    string (``"dbname=test user=postgres"``) or URI
    (``"postgresql://postgres@localhost/test"``) in *dsn*, as keyword
    arguments, or as a mix of both: the keyword arguments override the
    parameters with the same name in *dsn*::

        conn = psycopg2.connect(dbname="test", user="postgres")
        conn = psycopg2.connect("dbname=test", user="postgres",
                                password="secret")

    ``database`` is accepted as an alias of ``dbname``; arguments with
    value None are ignored.  Without any argument the connection uses
    the libpq defaults (environment variables, service file...).

    *connection_factory* is a callable, usually a subclass of
    `~psycopg2.extensions.connection`, used to create the connection;
    *cursor_factory* becomes the connection's default
    `~psycopg2.extensions.connection.cursor_factory`.  With
    ``async_=True`` (or ``async=True``) the connection is asynchronous.

    The YugabyteDB properties ``load_balance``, ``topology_keys``,
    ``yb_servers_refresh_interval``, ``failed_host_ttl_seconds`` and
    ``fallback_to_topology_keys_only`` are accepted in *dsn*, as keyword
    arguments, in a connection service and from the environment variables
    ``PGLOADBALANCE``, ``PGTOPOLOGYKEYS``, ``PGYBSERVERSREFRESHINTERVAL``,
    ``PGFAILEDHOSTTTLSECONDS`` and ``PGFALLBACKTOTOPOLOGYKEYSONLY``: with
    ``load_balance`` enabled the connection is opened on the least loaded
    node of the cluster (see `psycopg2.loadbalance`).

    Raise `ProgrammingError` for an invalid connection string or unknown
    parameter, `OperationalError` if the connection cannot be made.
    """
    # `async` is a keyword since Python 3.7: accept both spellings.
    async_ = bool(kwargs.pop("async", False))
    async_ = bool(kwargs.pop("async_", False)) or async_

    if _mentions_load_balancing(dsn, kwargs):
        from psycopg2 import _lb_props
        dsn, kwargs, props = _lb_props.extract_properties(dsn, kwargs)
        if props:
            from psycopg2 import loadbalance
            return loadbalance.connect(
                dsn, props, connection_factory=connection_factory,
                cursor_factory=cursor_factory, async_=async_, **kwargs)

    dsn = _ext.make_dsn(dsn, **kwargs)
    conn = _connect(dsn, connection_factory=connection_factory,
                    async_=async_)
    if cursor_factory is not None:
        conn.cursor_factory = cursor_factory
    return conn
