"""Connection pooling.

A pool keeps up to *maxconn* connections, made with
:func:`psycopg2.connect` and the arguments given to the pool, and hands them
out with `getconn()`.  Connections given back with `putconn()` are kept open
for reuse while the pool holds fewer than *minconn* idle connections, and
closed otherwise.

`SimpleConnectionPool` is for single-threaded programs,
`ThreadedConnectionPool` can be shared between threads, and its `!getconn()`
can wait for a connection to be given back.  Load-balancing options
(``load_balance=true`` ...) pass through to `!connect()` like any other
connection argument; the pools then also move back connections left on the
wrong node (see *rebalance*).

Options of the pools, keyword-only:

- *check* (off by default): verify an idle connection before lending it,
  and replace it if it is closed or broken;
- *reset* (off by default): reset the session state of a connection given
  back;
- *rebalance* (on by default for load-balanced connections): close the
  connections given back that `psycopg2.loadbalance.is_misplaced()` reports
  on the wrong node, so that the next `!getconn()` opens one on a better
  node.
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, Hashable, List, Optional, Union

import psycopg2
from psycopg2 import extensions as _ext

__all__ = [
    "PoolError", "AbstractConnectionPool", "SimpleConnectionPool",
    "ThreadedConnectionPool", "Rebalancer",
]

logger = logging.getLogger("psycopg2.pool")

#: The statement run by ``reset=True``.
DEFAULT_RESET = "DISCARD ALL"

#: Seconds a connection may stay idle before *check* verifies it with a
#: round trip.
DEFAULT_CHECK_IDLE = 1.0

#: Rebalancing replaces at most this many connections per second and pool...
REBALANCE_RATE = 2.0
#: ...after a first burst of this many.
REBALANCE_BURST = 2

_CHECK_QUERY = "SELECT 1"

ResetOption = Union[None, bool, str, Callable[[Any], Any]]


class PoolError(psycopg2.Error):
    """Raised on a misuse of a pool (exhausted, closed, foreign connection)."""


# -- pure helpers ------------------------------------------------------------

class _RateLimiter:
    """A token bucket: `allow()` is true at most *rate* times per second on
    average, after an initial *burst*.

    *clock* returns the time in seconds (`time.monotonic` by default); the
    tests give a fake one.
    """

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._last = clock()

    def allow(self) -> bool:
        """Take one token if there is one; return whether one was taken."""
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:     # a clock going back gives no token
            self._tokens = min(float(self.burst),
                               self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def _misplaced_predicate() -> Optional[Callable[[Any], bool]]:
    """Return `psycopg2.loadbalance.is_misplaced`, or None without one.

    Looked up at every call, so that the pool follows the module it runs
    with.
    """
    try:
        from psycopg2 import loadbalance
    except ImportError:
        return None
    func = getattr(loadbalance, "is_misplaced", None)
    return func if callable(func) else None


def _should_replace(conn: Any,
                    predicate: Optional[Callable[[Any], bool]],
                    limiter: _RateLimiter) -> bool:
    """Decide whether a connection given back must be closed (its slot is
    refilled by the next `!getconn()`) because it is on the wrong node.

    *predicate* is `!is_misplaced()` (None: never misplaced); a predicate
    raising counts as "not misplaced".  A token of *limiter* is only taken
    for a misplaced connection.
    """
    if predicate is None:
        return False
    try:
        misplaced = bool(predicate(conn))
    except Exception:
        logger.debug("is_misplaced(%r) failed", conn, exc_info=True)
        return False
    if not misplaced:
        return False
    if not limiter.allow():
        logger.debug("misplaced connection %r kept: replacement rate "
                     "limit reached", conn)
        return False
    return True


class Rebalancer:
    """Decide, connection by connection, which ones to move to another node.

    `should_close()` is true for a connection that
    `psycopg2.loadbalance.is_misplaced()` reports on the wrong node, at most
    *rate* times per second on average (after a first *burst*), so that a
    node going up and down does not make the program reconnect all the
    time.  The pools use one each with *rebalance*; other pools can use one
    too (see the SQLAlchemy recipe in the documentation).  Thread-safe.
    """

    def __init__(self, rate: float = REBALANCE_RATE,
                 burst: int = REBALANCE_BURST, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limiter = _RateLimiter(rate, burst, clock)
        self._lock = threading.Lock()

    def should_close(self, conn: Any) -> bool:
        """Tell whether *conn*, idle, should be closed and replaced by a new
        connection (which `!connect()` places on the best node)."""
        predicate = _misplaced_predicate()
        if predicate is None:
            return False
        with self._lock:
            return _should_replace(conn, predicate, self._limiter)


def _uses_load_balance(args: Any, kwargs: Dict[str, Any]) -> bool:
    """Tell whether `!connect()` with these arguments balances the load."""
    try:
        from psycopg2 import loadbalance
        extract = getattr(loadbalance, "extract_properties")
        dsn = args[0] if args else kwargs.get("dsn")
        others = {k: v for k, v in kwargs.items()
                  if k not in ("dsn", "connection_factory", "cursor_factory")}
        props = extract(dsn if isinstance(dsn, str) else None, others)[2]
        return bool(props)
    except Exception:
        # malformed options: connect() will say so
        logger.debug("cannot read the load-balancing options",
                     exc_info=True)
        return False


def _deadline(timeout: Optional[float]) -> Optional[float]:
    """Validate a `!getconn()` timeout; return the monotonic deadline."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not timeout >= 0:
        raise PoolError("getconn timeout must be a number of seconds >= 0 "
                        "or None, got %r" % (timeout,))
    return time.monotonic() + timeout


def _run_autocommit(conn: Any, query: str) -> None:
    """Run *query* on an idle *conn* outside any transaction."""
    autocommit = conn.autocommit
    if not autocommit:
        conn.autocommit = True
    try:
        cur = _ext.cursor(conn)
        try:
            cur.execute(query)
        finally:
            cur.close()
    finally:
        if not autocommit and not conn.closed:
            conn.autocommit = False


# -- the pools ---------------------------------------------------------------

class AbstractConnectionPool:
    """Generic key-based pooling code, shared by the concrete pools.

    The methods here do no locking: the subclasses expose them as the
    public `!getconn()`, `!putconn()` and `!closeall()`.
    """

    def __init__(self, minconn: int, maxconn: int, *args: Any,
                 check: bool = False,
                 check_idle: float = DEFAULT_CHECK_IDLE,
                 reset: ResetOption = None,
                 rebalance: Optional[bool] = None,
                 **kwargs: Any) -> None:
        """Create the pool and open *minconn* connections right away.

        *args* and *kwargs* are passed to `psycopg2.connect()` for every
        connection the pool makes.  *check*, *check_idle*, *reset* and
        *rebalance* configure the pool itself (see the module's
        documentation).
        """
        self.minconn = int(minconn)
        self.maxconn = int(maxconn)
        self.closed = False

        if not isinstance(check, bool):
            raise PoolError("check must be True or False, got %r" % (check,))
        if isinstance(check_idle, bool) or not isinstance(
                check_idle, (int, float)) or not check_idle >= 0:
            raise PoolError("check_idle must be a number of seconds >= 0, "
                            "got %r" % (check_idle,))
        if reset is True:
            reset = DEFAULT_RESET
        elif reset is False:
            reset = None
        if not (reset is None or isinstance(reset, str) or callable(reset)):
            raise PoolError("reset must be a bool, an SQL string or a "
                            "callable, got %r" % (reset,))
        if rebalance is None:
            rebalance = _uses_load_balance(args, kwargs)
        elif not isinstance(rebalance, bool):
            raise PoolError("rebalance must be True, False or None, got %r"
                            % (rebalance,))
        self.check = check
        self.check_idle = float(check_idle)
        self.reset = reset
        self.rebalance = rebalance
        self._rebalancer = Rebalancer()

        self._args = args
        self._kwargs = kwargs

        self._pool: List[_ext.connection] = []  # idle connections
        self._used: Dict[Hashable, _ext.connection] = {}  # key -> lent
        self._rused: Dict[int, Hashable] = {}  # id(connection) -> key
        self._idle_since: Dict[int, float] = {}  # id(idle conn) -> time
        self._keys = 0                          # last automatic key

        for _ in range(self.minconn):
            self._connect()

    def _connect(self, key: Optional[Hashable] = None) -> _ext.connection:
        """Open a new connection; lend it under *key*, or keep it idle."""
        conn = psycopg2.connect(*self._args, **self._kwargs)
        if key is not None:
            self._lend(conn, key)
        else:
            self._add_idle(conn)
        return conn

    def _lend(self, conn: _ext.connection, key: Hashable) -> None:
        self._used[key] = conn
        self._rused[id(conn)] = key

    def _add_idle(self, conn: _ext.connection) -> None:
        self._idle_since[id(conn)] = time.monotonic()
        self._pool.append(conn)

    def _pop_idle(self) -> _ext.connection:
        conn = self._pool.pop()
        self._idle_since.pop(id(conn), None)
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
        conn = self._try_getconn(key)
        if conn is None:
            raise PoolError("connection pool exhausted")
        return conn

    def _try_getconn(self, key: Hashable) -> Optional[_ext.connection]:
        """Lend a connection under *key*; return None if the pool is
        exhausted."""
        conn = self._used.get(key)
        if conn is not None:
            return conn

        while self._pool:
            idle_since = self._idle_since.get(id(self._pool[-1]))
            conn = self._pop_idle()
            if self.check and not self._is_usable(conn, idle_since):
                continue    # replaced by the next one, or a new one
            self._lend(conn, key)
            return conn

        if len(self._used) >= self.maxconn:
            return None
        return self._connect(key)

    def _is_usable(self, conn: _ext.connection,
                   idle_since: Optional[float]) -> bool:
        """Tell whether an idle connection can be lent; close it if not."""
        if conn.closed:
            logger.debug("check: discarding closed connection %r", conn)
            return False
        if conn.get_transaction_status() == _ext.TRANSACTION_STATUS_UNKNOWN:
            logger.debug("check: discarding broken connection %r", conn)
            conn.close()
            return False
        if idle_since is not None and \
                time.monotonic() - idle_since < self.check_idle:
            return True
        try:
            if conn.get_transaction_status() != \
                    _ext.TRANSACTION_STATUS_IDLE:
                conn.rollback()     # used after it was given back
            _run_autocommit(conn, _CHECK_QUERY)
        except psycopg2.Error as e:
            logger.debug("check: discarding connection %r: %s", conn, e)
            conn.close()
            return False
        return True

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
        transaction it was left in; discard it if it is closed, broken or
        (with *rebalance*) on the wrong node."""
        if conn.closed:
            return

        status = conn.get_transaction_status()
        if status == _ext.TRANSACTION_STATUS_UNKNOWN:
            # the server connection is gone: nothing to reuse
            logger.debug("discarding broken connection %r", conn)
            conn.close()
            return

        if self.rebalance and self._rebalancer.should_close(conn):
            logger.debug("rebalance: closing misplaced connection %r", conn)
            conn.close()
            return

        if status != _ext.TRANSACTION_STATUS_IDLE:
            # in a transaction, or in a failed one
            logger.debug("rolling back connection %r returned in a "
                         "transaction", conn)
            conn.rollback()

        if self.reset is not None and not self._reset_session(conn):
            return
        self._add_idle(conn)

    def _reset_session(self, conn: _ext.connection) -> bool:
        """Run the *reset* option on *conn*; close it if that fails."""
        try:
            if isinstance(self.reset, str):
                _run_autocommit(conn, self.reset)
            else:
                self.reset(conn)    # type: ignore[misc]
                if conn.get_transaction_status() != \
                        _ext.TRANSACTION_STATUS_IDLE:
                    conn.rollback()
        except Exception as e:
            logger.warning("discarding connection %r: session reset "
                           "failed: %s", conn, e)
            conn.close()
            return False
        return True

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
                 check: bool = False,
                 check_idle: float = DEFAULT_CHECK_IDLE,
                 reset: ResetOption = None,
                 rebalance: Optional[bool] = None,
                 **kwargs: Any) -> None:
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        AbstractConnectionPool.__init__(
            self, minconn, maxconn, *args, check=check,
            check_idle=check_idle, reset=reset, rebalance=rebalance,
            **kwargs)

    def getconn(self, key: Optional[Hashable] = None,
                timeout: Optional[float] = None) -> _ext.connection:
        """Get a free connection, the one lent under *key* if given.

        If the pool is exhausted, wait up to *timeout* seconds for a
        connection to be given back, then raise `PoolError`; with
        *timeout* None (the default) raise at once.
        """
        deadline = _deadline(timeout)
        with self._lock:
            self._check_open()
            if key is None:
                key = self._getkey()
            while True:
                conn = self._try_getconn(key)
                if conn is not None:
                    return conn
                left = 0.0 if deadline is None \
                    else deadline - time.monotonic()
                if left <= 0:
                    if deadline is None:
                        raise PoolError("connection pool exhausted")
                    raise PoolError(
                        "connection pool exhausted: no connection given "
                        "back within %s s" % (timeout,))
                self._returned.wait(min(left, 3600.0))
                self._check_open()

    def putconn(self, conn: Optional[_ext.connection] = None,
                key: Optional[Hashable] = None,
                close: bool = False) -> None:
        """Give a connection back to the pool; *close* it if requested."""
        with self._lock:
            try:
                self._putconn(conn, key, close)
            finally:
                self._returned.notify()

    def closeall(self) -> None:
        """Close every connection of the pool, and the pool."""
        with self._lock:
            try:
                self._closeall()
            finally:
                self._returned.notify_all()
