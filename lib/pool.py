"""Connection pooling.

A pool keeps up to *maxconn* connections, made with
:func:`psycopg2.connect` and the arguments given to the pool, and hands them
out with `getconn()`.  Connections given back with `putconn()` are kept open
for reuse while the pool holds fewer than *minconn* idle connections, and
closed otherwise.

`SimpleConnectionPool` is for single-threaded programs,
`ThreadedConnectionPool` can be shared between threads.  Load-balancing
options (``load_balance=true`` ...) pass through to `!connect()` like any
other connection argument.
"""

import logging
import threading
from typing import Any, Dict, Hashable, List, Optional

import psycopg2
from psycopg2 import extensions as _ext

__all__ = [
    "PoolError", "AbstractConnectionPool", "SimpleConnectionPool",
    "ThreadedConnectionPool",
]

logger = logging.getLogger("psycopg2.pool")


class PoolError(psycopg2.Error):
    """Raised on a misuse of a pool (exhausted, closed, foreign connection)."""


class AbstractConnectionPool:
    """Generic key-based pooling code, shared by the concrete pools.

    The methods here do no locking: the subclasses expose them as the
    public `!getconn()`, `!putconn()` and `!closeall()`.
    """

    def __init__(self, minconn: int, maxconn: int, *args: Any,
                 **kwargs: Any) -> None:
        """Create the pool and open *minconn* connections right away.

        *args* and *kwargs* are passed to `psycopg2.connect()` for every
        connection the pool makes.
        """
        self.minconn = int(minconn)
        self.maxconn = int(maxconn)
        self.closed = False

        self._args = args
        self._kwargs = kwargs

        self._pool: List[_ext.connection] = []  # idle connections
        self._used: Dict[Hashable, _ext.connection] = {}  # key -> lent
        self._rused: Dict[int, Hashable] = {}  # id(connection) -> key
        self._keys = 0                          # last automatic key

        for _ in range(self.minconn):
            self._connect()

    def _connect(self, key: Optional[Hashable] = None) -> _ext.connection:
        """Open a new connection; lend it under *key*, or keep it idle."""
        conn = psycopg2.connect(*self._args, **self._kwargs)
        if key is not None:
            self._used[key] = conn
            self._rused[id(conn)] = key
        else:
            self._pool.append(conn)
        return conn

    def _getkey(self) -> int:
        """Return a new automatic key."""
        self._keys += 1
        return self._keys

    def _check_open(self) -> None:
        if self.closed:
            raise PoolError("connection pool is closed")

    def _getconn(self,
                 key: Optional[Hashable] = None) -> _ext.connection:
        """Lend a connection, the same one for a key already in use."""
        self._check_open()
        if key is None:
            key = self._getkey()

        conn = self._used.get(key)
        if conn is not None:
            return conn

        if self._pool:
            conn = self._pool.pop()
            self._used[key] = conn
            self._rused[id(conn)] = key
            return conn

        if len(self._used) >= self.maxconn:
            raise PoolError("connection pool exhausted")
        return self._connect(key)

    def _putconn(self, conn: Any, key: Optional[Hashable] = None,
                 close: bool = False) -> None:
        """Take a connection back; keep it for reuse or close it."""
        self._check_open()
        if key is None:
            key = self._rused.get(id(conn))
            if key is None:
                raise PoolError("trying to put unkeyed connection")

        if len(self._pool) < self.minconn and not close:
            self._keep_if_reusable(conn)
        else:
            conn.close()

        # A thread may give a connection back after closeall(): then the
        # bookkeeping has been dropped already.
        if not self.closed or key in self._used:
            del self._used[key]
            del self._rused[id(conn)]

    def _keep_if_reusable(self, conn: _ext.connection) -> None:
        """Put *conn* back among the idle connections, after ending any
        transaction it was left in; discard it if it is closed or broken."""
        if conn.closed:
            return

        status = conn.get_transaction_status()
        if status == _ext.TRANSACTION_STATUS_UNKNOWN:
            # the server connection is gone: nothing to reuse
            logger.debug("discarding broken connection %r", conn)
            conn.close()
            return

        if status != _ext.TRANSACTION_STATUS_IDLE:
            # in a transaction, or in a failed one
            logger.debug("rolling back connection %r returned in a "
                         "transaction", conn)
            conn.rollback()
        self._pool.append(conn)

    def _closeall(self) -> None:
        """Close every connection, idle or lent, and the pool itself.

        Connections still lent out are closed too: using them afterwards
        raises `~psycopg2.InterfaceError`.
        """
        self._check_open()
        for conn in self._pool + list(self._used.values()):
            try:
                conn.close()
            except Exception:
                # keep closing the others: a broken connection may complain
                logger.debug("error closing connection %r", conn,
                             exc_info=True)
        self.closed = True


class SimpleConnectionPool(AbstractConnectionPool):
    """A pool for single-threaded code: its methods take no lock."""

    getconn = AbstractConnectionPool._getconn
    putconn = AbstractConnectionPool._putconn
    closeall = AbstractConnectionPool._closeall


class ThreadedConnectionPool(AbstractConnectionPool):
    """A pool safe to share between threads: every method holds a lock."""

    def __init__(self, minconn: int, maxconn: int, *args: Any,
                 **kwargs: Any) -> None:
        self._lock = threading.Lock()
        AbstractConnectionPool.__init__(
            self, minconn, maxconn, *args, **kwargs)

    def getconn(self,
                key: Optional[Hashable] = None) -> _ext.connection:
        """Get a free connection, the one lent under *key* if given."""
        with self._lock:
            return self._getconn(key)

    def putconn(self, conn: Optional[_ext.connection] = None,
                key: Optional[Hashable] = None,
                close: bool = False) -> None:
        """Give a connection back to the pool; *close* it if requested."""
        with self._lock:
            self._putconn(conn, key, close)

    def closeall(self) -> None:
        """Close every connection of the pool, and the pool."""
        with self._lock:
            self._closeall()
