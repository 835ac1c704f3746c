"""Adaptation of Python objects to json/jsonb, and typecasting back.

`Json` wraps a Python object to pass it as a json parameter; the json and
jsonb typecasters convert the values read from the database with
`json.loads()` (or a custom function: see `register_json()`).  The
typecasters of the built-in json and jsonb types are registered globally
when psycopg2 is imported.  The public names are re-exported by
`psycopg2.extras`.
"""

import json
from typing import Any, Callable, Optional, Tuple

from psycopg2._psycopg import (
    ISQLQuote, ProgrammingError, QuotedString, cursor as _cursor_type,
    new_array_type, new_type, register_type,
)

# The OIDs of the json types are fixed since PostgreSQL 9.2 (json) and 9.4
# (jsonb).
JSON_OID = 114
JSONARRAY_OID = 199
JSONB_OID = 3802
JSONBARRAY_OID = 3807

STATUS_IN_TRANSACTION = 2   # extensions.STATUS_IN_TRANSACTION


class Json:
    """An `~psycopg2.extensions.ISQLQuote` wrapper adapting a Python object
    to a json value.

    The object is serialized with *dumps* if given, else with
    `json.dumps()`: any object it supports can be wrapped.  Subclasses can
    override the `dumps()` method instead, e.g. to pass options to
    `!json.dumps()`::

        cur.execute("INSERT INTO t (data) VALUES (%s)",
                    [Json({"a": [1, 2]})])
    """

    def __init__(self, adapted: Any,
                 dumps: Optional[Callable[[Any], str]] = None) -> None:
        self.adapted = adapted
        self._conn = None
        self._dumps = dumps or json.dumps

    def __conform__(self, proto: Any) -> Optional["Json"]:
        if proto is ISQLQuote:
            return self
        return None

    def dumps(self, obj: Any) -> str:
        """Serialize *obj* in json format.

        Called by `getquoted()`; override it in a subclass to customize
        the serialization of every `!Json` of that class.
        """
        return self._dumps(obj)

    def prepare(self, conn: Any) -> None:
        """Quote the json string for *conn* (its encoding and escaping)."""
        self._conn = conn

    def getquoted(self) -> bytes:
        """Return the object serialized and quoted as an SQL string."""
        quoted = QuotedString(self.dumps(self.adapted))
        if self._conn is not None:
            quoted.prepare(self._conn)
        return quoted.getquoted()

    def __str__(self) -> str:
        return self.getquoted().decode("ascii", "replace")


def register_json(conn_or_curs: Any = None, globally: bool = False,
                  loads: Optional[Callable[[str], Any]] = None,
                  oid: Optional[int] = None, array_oid: Optional[int] = None,
                  name: str = "json") -> Tuple[Any, Any]:
    """Create and register typecasters converting json values to Python.

    :param conn_or_curs: a connection or cursor: the typecasters are
        registered only on it (unless *globally* is true).  It is also
        used to look up the OIDs of the type *name* if *oid* is None.
    :param globally: register the typecasters for every connection.
    :param loads: the function parsing the json data, `json.loads()` by
        default.
    :param oid: the OID of the json type; looked up in the database
        through *conn_or_curs* if None.
    :param array_oid: the OID of its array type.
    :param name: the name of the type to look up, e.g. ``jsonb`` or a
        domain over json.
    :return: the pair of typecasters (value, array); the array one is None
        if the type has no array.
    """
    if oid is None:
        oid, array_oid = _get_json_oids(conn_or_curs, name)

    json_caster, array_caster = _create_json_typecasters(
        oid, array_oid, loads=loads, name=name.upper())

    scope = None if globally else conn_or_curs
    for caster in (json_caster, array_caster):
        if caster is None:
            continue
        if scope is None:
            register_type(caster)
        else:
            register_type(caster, scope)

    return json_caster, array_caster


def register_default_json(conn_or_curs: Any = None, globally: bool = False,
                          loads: Optional[Callable[[str], Any]] = None
                          ) -> Tuple[Any, Any]:
    """Register typecasters for the built-in json type with a custom
    *loads* function, without querying the database.

    The arguments have the meaning of `register_json()`'s.
    """
    return register_json(conn_or_curs=conn_or_curs, globally=globally,
                         loads=loads, oid=JSON_OID, array_oid=JSONARRAY_OID)


def register_default_jsonb(conn_or_curs: Any = None, globally: bool = False,
                           loads: Optional[Callable[[str], Any]] = None
                           ) -> Tuple[Any, Any]:
    """Register typecasters for the built-in jsonb type with a custom
    *loads* function, without querying the database.

    The arguments have the meaning of `register_json()`'s.
    """
    return register_json(conn_or_curs=conn_or_curs, globally=globally,
                         loads=loads, oid=JSONB_OID,
                         array_oid=JSONBARRAY_OID, name="jsonb")


def _create_json_typecasters(oid: int, array_oid: Optional[int],
                             loads: Optional[Callable[[str], Any]] = None,
                             name: str = "JSON") -> Tuple[Any, Any]:
    """Create the typecasters of a json type and, if *array_oid* is not
    None, of its array type, without registering them."""
    if loads is None:
        loads = json.loads

    def typecast_json(s: Optional[str], cur: Any) -> Any:
        if s is None:
            return None
        return loads(s)

    json_caster = new_type((oid,), name, typecast_json)
    if array_oid is not None:
        array_caster = new_array_type(
            (array_oid,), "%sARRAY" % name, json_caster)
    else:
        array_caster = None

    return json_caster, array_caster


def _get_json_oids(conn_or_curs: Any,
                   name: str = "json") -> Tuple[int, Optional[int]]:
    """Look up the OIDs of the type *name* and of its array.

    The query leaves the transaction status of the connection as it was.
    Raise `ProgrammingError` if the type does not exist.
    """
    if conn_or_curs is None:
        raise ProgrammingError("no connection or cursor provided")
    if isinstance(conn_or_curs, _cursor_type):
        conn = conn_or_curs.connection
    else:
        conn = conn_or_curs

    was_in_transaction = conn.status == STATUS_IN_TRANSACTION
    # A plain cursor: the connection's cursor_factory may return rows that
    # cannot be indexed by position (e.g. RealDictCursor).
    with conn.cursor(cursor_factory=_cursor_type) as curs:
        curs.execute(
            "SELECT t.oid, t.typarray FROM pg_catalog.pg_type t "
            "WHERE t.typname = %s "
            "ORDER BY pg_catalog.pg_type_is_visible(t.oid) DESC LIMIT 1",
            (name,))
        row = curs.fetchone()

    # Don't leave a transaction open that the user didn't start.
    if not was_in_transaction and not conn.autocommit:
        conn.rollback()

    if row is None:
        raise ProgrammingError("%s data type not found" % name)

    oid, array_oid = row[0], row[1]
    return oid, (array_oid or None)


def _register_default_casters() -> None:
    """Register globally the typecasters of the built-in json types, so
    that json and jsonb values are returned as Python objects."""
    for caster in (JSON, JSONARRAY, JSONB, JSONBARRAY):
        register_type(caster)


JSON, JSONARRAY = _create_json_typecasters(
    JSON_OID, JSONARRAY_OID, name="JSON")
JSONB, JSONBARRAY = _create_json_typecasters(
    JSONB_OID, JSONBARRAY_OID, name="JSONB")

_register_default_casters()
