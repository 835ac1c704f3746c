"""Classification of failed connection attempts for the load balancer.

A failed attempt either concerns the node (it is unreachable, down,
starting, shutting down or full: try another one and avoid this one for a
while), or comes from the connection's own parameters (a bad option, a
wrong password, an unknown database: every node would answer the same, so
the error is raised at once and no node is marked), or depends on the
connection's TLS parameters (the node is avoided only by connections with
the same TLS parameters).

The decision is `classify()`, a pure function of the facts the C layer
records for each attempt (see ``psycopg/connection_attempt.c``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # pragma: no cover
    from typing import Any, Dict, Optional, Tuple

# What classify() returns.
NODE_DOWN = "node"
CLIENT_ERROR = "client"
TLS_SPECIFIC = "tls"

# libpq's ConnStatusType values (libpq-fe.h, stable ABI).
CONNECTION_OK = 0
CONNECTION_BAD = 1
CONNECTION_STARTED = 2
CONNECTION_MADE = 3
CONNECTION_AWAITING_RESPONSE = 4
CONNECTION_AUTH_OK = 5
CONNECTION_SETENV = 6
CONNECTION_SSL_STARTUP = 7
CONNECTION_NEEDED = 8
CONNECTION_CHECK_WRITABLE = 9
CONNECTION_CONSUME = 10
CONNECTION_GSS_STARTUP = 11
CONNECTION_CHECK_TARGET = 12
CONNECTION_CHECK_STANDBY = 13
# connection_attempt.c: libpq rejected an option after starting; the
# attempt was PQconnectdb()'s (a name with several addresses and a
# connect_timeout): neither phase nor SQLSTATE known
ATTEMPT_OPTION_ERROR = -1
ATTEMPT_NO_FACTS = -2

_TLS_PHASES = frozenset([CONNECTION_SSL_STARTUP, CONNECTION_GSS_STARTUP])
_CHECK_PHASES = frozenset([CONNECTION_CHECK_WRITABLE, CONNECTION_CONSUME,
                           CONNECTION_CHECK_TARGET, CONNECTION_CHECK_STANDBY])

# SQLSTATE classes and codes of a startup FATAL that concern the node:
# 08 connection exception, 53 insufficient resources (53300 too many
# connections), 57P01-57P05 shutdown, starting up / in recovery (57P03),
# 58 system errors.  Every other SQLSTATE (28 authorization, 3D000
# unknown database, 22023 a bad option value...) is the client's.
_NODE_SQLSTATE_PREFIXES = ("08", "53", "57P", "58")

# libpq's messages when a target_session_attrs check rejects a server
# (fe-connect.c): checked together with the attempt's
# target_session_attrs, not alone.
_SESSION_ATTRS_MESSAGES = (
    "session is read-only", "session is not read-only",
    "server is in hot standby mode", "server is not in hot standby mode",
    "could not make a writable connection", "could not make a readonly",
)

# Client-side TLS files libpq could not use: the client's mistake.
_TLS_FILE_MESSAGES = (
    "certificate file", "does not exist", "private key file",
    "could not open", "could not read", "could not load",
    "has group or world access",
)

# The TLS parameters: a TLS_SPECIFIC failure affects connections with the
# same values only.
TLS_KEYWORDS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl",
                "sslcrldir", "sslsni", "ssl_min_protocol_version",
                "ssl_max_protocol_version", "requiressl", "gssencmode",
                "krbsrvname", "gsslib", "requirepeer", "sslcompression")


class Facts:
    """What is known of a failed attempt (`_lb_facts` of its error)."""

    __slots__ = ("io_started", "needs_password", "status", "sqlstate",
                 "timed_out", "session_attrs", "message")

    def __init__(self, io_started: bool = True, needs_password: bool = False,
                 status: int = CONNECTION_NEEDED,
                 sqlstate: Optional[str] = None, timed_out: bool = False,
                 session_attrs: str = "any", message: str = ""):
        self.io_started = io_started
        self.needs_password = needs_password
        self.status = status
        self.sqlstate = sqlstate
        self.timed_out = timed_out
        self.session_attrs = session_attrs
        self.message = message

    @classmethod
    def from_error(cls, exc: BaseException) -> Optional["Facts"]:
        """The facts attached to `exc` by the C layer, or None."""
        raw = getattr(exc, "_lb_facts", None)
        if not isinstance(raw, tuple) or len(raw) != 6:
            return None
        return cls(bool(raw[0]), bool(raw[1]), int(raw[2]), raw[3],
                   bool(raw[4]), str(raw[5]), str(exc))

    def __repr__(self) -> str:
        return ("Facts(io_started=%r, needs_password=%r, status=%r, "
                "sqlstate=%r, timed_out=%r, session_attrs=%r)" % (
                    self.io_started, self.needs_password, self.status,
                    self.sqlstate, self.timed_out, self.session_attrs))


def classify(facts: Facts) -> str:
    """NODE_DOWN, CLIENT_ERROR or TLS_SPECIFIC for a failed attempt."""
    if facts.status == ATTEMPT_OPTION_ERROR or not facts.io_started:
        # libpq refused the options, or the host name did not resolve
        # (node DSNs carry a resolved hostaddr: only a seed can get here)
        if facts.message.startswith("could not translate host name"):
            return NODE_DOWN
        return CLIENT_ERROR
    if facts.timed_out:
        return NODE_DOWN
    if facts.status == ATTEMPT_NO_FACTS:
        if facts.needs_password:
            return CLIENT_ERROR
        return _classify_message(facts.message)
    if facts.sqlstate:
        if facts.sqlstate.startswith(_NODE_SQLSTATE_PREFIXES):
            return NODE_DOWN
        return CLIENT_ERROR
    if facts.needs_password:
        return CLIENT_ERROR
    if facts.status in _TLS_PHASES:
        if any(m in facts.message for m in _TLS_FILE_MESSAGES):
            return CLIENT_ERROR
        return TLS_SPECIFIC
    if (facts.session_attrs not in ("", "any")
            and (facts.status in _CHECK_PHASES
                 or facts.status >= CONNECTION_AWAITING_RESPONSE)
            and any(m in facts.message for m in _SESSION_ATTRS_MESSAGES)):
        return CLIENT_ERROR
    # refused, unreachable, reset, closed by the server without a word
    return NODE_DOWN


# Words of the startup FATALs that concern the node (used only when the
# attempt gave no SQLSTATE).
_NODE_FATAL_MESSAGES = ("starting up", "shutting down", "in recovery",
                        "too many clients", "remaining connection slots",
                        "not accepting connections", "terminating connection",
                        "not yet accepting connections")


def _classify_message(message: str) -> str:
    """The last resort of classification: the server said FATAL for a
    reason that is not the node's, or there is no server answer."""
    if "FATAL" not in message:
        return NODE_DOWN
    if any(m in message for m in _NODE_FATAL_MESSAGES):
        return NODE_DOWN
    return CLIENT_ERROR


def classify_error(exc: BaseException) -> str:
    """classify() for an OperationalError of a connection attempt; errors
    without facts (another code path) are judged by their message."""
    facts = Facts.from_error(exc)
    if facts is not None:
        return classify(facts)
    code = getattr(exc, "pgcode", None)
    if code:
        return (NODE_DOWN if code.startswith(_NODE_SQLSTATE_PREFIXES)
                else CLIENT_ERROR)
    return _classify_message(str(exc))


def tls_key(params: Dict[str, Any]) -> Tuple[Tuple[str, str], ...]:
    """The TLS parameters of a connection, as a hashable key."""
    return tuple((k, str(params[k])) for k in TLS_KEYWORDS
                 if params.get(k) not in (None, ""))
