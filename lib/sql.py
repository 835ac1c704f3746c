"""SQL composition utility module.

Build SQL statements out of pieces (literal SQL text, identifiers, values,
placeholders) without ever formatting user data into a query string by hand.
Every object here is a :class:`Composable`: it renders to a query string
through :meth:`~Composable.as_string`, and it can be passed wherever a query
is accepted (`cursor.execute()`, `executemany()`, `copy_expert()`,
`psycopg2.extras.execute_values()`...).
"""

import string
from typing import Any, Iterable, Iterator, List, Optional, Tuple, Union

from psycopg2 import extensions as ext

__all__ = [
    "Composable", "Composed", "SQL", "Identifier", "Literal", "Placeholder",
    "NULL", "DEFAULT",
]

# Used to split a template into literal text and replacement fields.
_formatter = string.Formatter()


def _connection_of(context: Any) -> Any:
    """Return the connection of `context` (a connection or a cursor)."""
    if isinstance(context, ext.connection):
        return context
    if isinstance(context, ext.cursor):
        return context.connection
    raise TypeError("argument 2 must be a connection or a cursor")


class Composable:
    """
    Base class of every piece of a composed query.

    Subclasses render themselves with `as_string()`.  Pieces combine with
    ``+`` (giving a `Composed`) and repeat with ``*`` and an integer (a
    `Composed` holding the piece that many times).  Two pieces are equal when
    they are of the same class and wrap equal values.
    """

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def __repr__(self) -> str:
        return "%s(%r)" % (self.__class__.__name__, self._wrapped)

    def as_string(self, context: Any) -> str:
        """
        Render the object as a query fragment.

        :param context: where the fragment will run: a `connection` or a
            `cursor` (its encoding and quoting rules are used).
        :rtype: `str`

        Cursors call this method themselves when a `!Composable` is given as
        a query.
        """
        raise NotImplementedError

    def __add__(self, other: Any) -> "Composed":
        if isinstance(other, Composed):
            return Composed([self]) + other
        if isinstance(other, Composable):
            return Composed([self, other])
        return NotImplemented

    def __mul__(self, n: int) -> "Composed":
        return Composed([self] * n)

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self._wrapped == other._wrapped

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    # Equality is by value and the wrapped values may be mutable (Composed
    # wraps a list): like psycopg2, don't make them hashable.
    __hash__ = None  # type: ignore[assignment]


class Composed(Composable):
    """
    A sequence of `Composable` pieces rendered one after the other.

    Usually obtained from the ``+`` operator, `SQL.format()` or
    `SQL.join()`, but it can be built directly from a list of pieces::

        >>> q = sql.Composed([sql.SQL("drop table "), sql.Identifier("t")])
        >>> q.as_string(conn)
        'drop table "t"'

    Iterating over a `!Composed` yields its pieces, so it can be passed to
    `SQL.join()`.
    """

    def __init__(self, seq: Iterable[Composable]) -> None:
        items = []
        for item in seq:
            if not isinstance(item, Composable):
                raise TypeError(
                    "Composed elements must be Composable, got %r instead"
                    % (item,))
            items.append(item)
        super().__init__(items)

    @property
    def seq(self) -> List[Composable]:
        """A list of the pieces of the object."""
        return list(self._wrapped)

    def as_string(self, context: Any) -> str:
        return "".join(item.as_string(context) for item in self._wrapped)

    def __iter__(self) -> Iterator[Composable]:
        return iter(self._wrapped)

    def __add__(self, other: Any) -> "Composed":
        if isinstance(other, Composed):
            return Composed(self._wrapped + other._wrapped)
        if isinstance(other, Composable):
            return Composed(self._wrapped + [other])
        return NotImplemented

    def join(self, joiner: Union[str, "SQL"]) -> "Composed":
        """
        Return a new `!Composed` with *joiner* between each pair of pieces.

        *joiner* is an `SQL` object or a plain string (taken as `!SQL`)::

            >>> cols = sql.Identifier("x") + sql.Identifier("y")
            >>> cols.join(", ").as_string(conn)
            '"x", "y"'
        """
        if isinstance(joiner, str):
            joiner = SQL(joiner)
        elif not isinstance(joiner, SQL):
            raise TypeError(
                "Composed.join() argument must be a string or an SQL")
        return joiner.join(self)


class SQL(Composable):
    """
    A piece of query text, included verbatim.

    The text is never escaped: use it for the fixed parts of a statement
    (keywords, operators, templates) and use `Identifier`, `Literal` or
    `Placeholder` for anything coming from variables.  `format()` fills a
    template, `join()` puts the text between other pieces::

        >>> q = sql.SQL("select {} from {}").format(
        ...     sql.SQL(", ").join([sql.Identifier("a"), sql.Identifier("b")]),
        ...     sql.Identifier("tbl"))
        >>> q.as_string(conn)
        'select "a", "b" from "tbl"'
    """

    def __init__(self, string: str) -> None:
        if not isinstance(string, str):
            raise TypeError("SQL values must be strings")
        super().__init__(string)

    @property
    def string(self) -> str:
        """The query text of the object."""
        return self._wrapped

    def as_string(self, context: Any) -> str:
        return self._wrapped

    def format(self, *args: Composable, **kwargs: Composable) -> Composed:
        """
        Fill the replacement fields of the text with `Composable` objects.

        :return: a `Composed` with the text around the fields kept as `SQL`.

        Fields are written as in `str.format()`: ``{}`` takes the positional
        arguments in order, ``{0}``, ``{1}``... pick them by position (and
        can repeat), ``{name}`` takes a keyword argument; ``{{`` and ``}}``
        produce literal braces.  Conversions (``{!r}``) and format specs
        (``{:>10}``) are rejected with `ValueError`, and the arguments must be
        `!Composable`::

            >>> q = sql.SQL("select * from {tbl} where {col} = %s").format(
            ...     tbl=sql.Identifier("people"), col=sql.Identifier("id"))
            >>> q.as_string(conn)
            'select * from "people" where "id" = %s'
        """
        parts: List[Composable] = []
        auto_index: Optional[int] = None   # None: numbering mode not chosen
        manual = False
        for text, field, spec, conv in _formatter.parse(self._wrapped):
            if conv:
                raise ValueError("no format conversion supported by SQL")
            if spec:
                raise ValueError("no format specification supported by SQL")
            if text:
                parts.append(SQL(text))
            if field is None:
                continue

            if field == "":
                if manual:
                    raise ValueError(
                        "cannot switch from manual field numbering to "
                        "automatic")
                auto_index = 0 if auto_index is None else auto_index
                parts.append(args[auto_index])
                auto_index += 1
            elif field.isdigit():
                if auto_index is not None:
                    raise ValueError(
                        "cannot switch from automatic field numbering to "
                        "manual")
                manual = True
                parts.append(args[int(field)])
            else:
                parts.append(kwargs[field])

        return Composed(parts)

    def join(self, seq: Iterable[Composable]) -> Composed:
        """
        Return a `Composed` with the pieces of *seq* separated by this text.

        *seq* is any iterable of `Composable` (a `Composed` included); an
        empty one gives an empty `!Composed`::

            >>> sql.SQL(" and ").join(
            ...     sql.SQL("{} = %s").format(sql.Identifier(c))
            ...     for c in ["a", "b"]).as_string(conn)
            '"a" = %s and "b" = %s'
        """
        parts: List[Composable] = []
        for item in seq:
            if parts:
                parts.append(self)
            parts.append(item)
        return Composed(parts)


class Identifier(Composable):
    """
    A database object name (table, column, schema...), quoted as needed.

    Identifiers are always double-quoted, so they keep their case and may
    contain any character.  Several strings make a qualified name, joined
    by dots::

        >>> sql.Identifier("Order Date").as_string(conn)
        '"Order Date"'
        >>> sql.Identifier("public", "users").as_string(conn)
        '"public"."users"'
    """

    def __init__(self, *strings: str) -> None:
        if not strings:
            raise TypeError("Identifier cannot be empty")
        for s in strings:
            if not isinstance(s, str):
                raise TypeError("SQL identifier parts must be strings")
        super().__init__(strings)

    @property
    def strings(self) -> Tuple[str, ...]:
        """The tuple of the name parts."""
        return self._wrapped

    @property
    def string(self) -> str:
        """The name, for an identifier made of one part only.

        `AttributeError` is raised for a qualified (multi-part) name.
        """
        if len(self._wrapped) != 1:
            raise AttributeError(
                "the Identifier wraps more than one than one string")
        return self._wrapped[0]

    def __repr__(self) -> str:
        return "%s(%s)" % (
            self.__class__.__name__, ", ".join(map(repr, self._wrapped)))

    def as_string(self, context: Any) -> str:
        return ".".join(ext.quote_ident(s, context) for s in self._wrapped)


class Literal(Composable):
    """
    A Python value rendered as an SQL literal.

    The value is adapted with the same rules used for query parameters
    (`psycopg2.extensions.adapt()`), using the encoding of the connection
    the object is rendered for::

        >>> sql.SQL(", ").join(
        ...     [sql.Literal("it's"), sql.Literal(42), sql.Literal(None)]
        ... ).as_string(conn)
        "'it''s', 42, NULL"

    Prefer query parameters for values: a `!Literal` is for the rare places
    where parameters are not allowed (e.g. some DDL statements).
    """

    @property
    def wrapped(self) -> Any:
        """The Python value of the object."""
        return self._wrapped

    def as_string(self, context: Any) -> str:
        conn = _connection_of(context)
        adapted = ext.adapt(self._wrapped)
        if hasattr(adapted, "prepare"):
            adapted.prepare(conn)
        quoted = adapted.getquoted()
        if isinstance(quoted, bytes):
            quoted = quoted.decode(ext.encodings[conn.encoding])
        return quoted


class Placeholder(Composable):
    """
    A query parameter placeholder: ``%s``, or ``%(name)s`` given a name.

    Handy to generate statements with a variable number of parameters::

        >>> cols = ["a", "b"]
        >>> sql.SQL("insert into t ({}) values ({})").format(
        ...     sql.SQL(", ").join(map(sql.Identifier, cols)),
        ...     sql.SQL(", ").join(map(sql.Placeholder, cols))).as_string(conn)
        'insert into t ("a", "b") values (%(a)s, %(b)s)'
    """

    def __init__(self, name: Optional[str] = None) -> None:
        if isinstance(name, str):
            # ')' would end the %(name)s placeholder early
            if ")" in name:
                raise ValueError("invalid name: %r" % name)
        elif name is not None:
            raise TypeError("expected string or None as name, got %r" % name)
        super().__init__(name)

    @property
    def name(self) -> Optional[str]:
        """The name of the placeholder, `!None` for ``%s``."""
        return self._wrapped

    def __repr__(self) -> str:
        if self._wrapped is None:
            return "%s()" % self.__class__.__name__
        return "%s(%r)" % (self.__class__.__name__, self._wrapped)

    def as_string(self, context: Any) -> str:
        if self._wrapped is None:
            return "%s"
        return "%%(%s)s" % self._wrapped


# Literals
NULL = SQL("NULL")
DEFAULT = SQL("DEFAULT")
