"""Session characteristics as psycopg2 2.9 leaves them on the server.

Each sequence below was run with psycopg2-binary 2.9.10 first; the
expected values are what the server then reported.  In autocommit
psycopg2 sends ``SET default_transaction_...`` for every characteristic
given to set_session() or to a property, even one that seems already set
(someone may have changed the server's value behind its back); leaving
autocommit puts the defaults back; reset() forgets everything.
"""

import ast

import pytest

import psycopg2

OFF, ON = "off", "on"
RC, RR, SER = "read committed", "repeatable read", "serializable"


def apply(conn, step):
    """Run one step of a sequence, written as a short string."""
    kind, _, arg = step.partition(":")
    if kind == "ss":            # set_session(name=value, ...)
        kwargs = {}
        for item in arg.split(","):
            name, _, value = item.partition("=")
            kwargs[name] = ast.literal_eval(value)
        conn.set_session(**kwargs)
    elif kind == "attr":        # conn.name = value
        name, _, value = arg.partition("=")
        setattr(conn, name, ast.literal_eval(value))
    elif kind == "behind":      # a SET the driver doesn't know about
        with conn.cursor() as cur:
            cur.execute(arg)
        if not conn.autocommit:
            conn.commit()
    elif kind == "sil":
        conn.set_isolation_level(ast.literal_eval(arg))
    elif kind == "reset":
        conn.reset()
    elif kind == "with":
        with conn:
            pass
    else:  # pragma: no cover - a typo in the table
        raise ValueError(step)


def server_state(conn):
    """default_transaction_read_only/_deferrable/_isolation, then
    transaction_read_only/_isolation of a transaction the driver starts."""
    values = []
    with conn.cursor() as cur:
        for name in ("default_transaction_read_only",
                     "default_transaction_deferrable",
                     "default_transaction_isolation",
                     "transaction_read_only", "transaction_isolation"):
            cur.execute("SHOW " + name)
            values.append(cur.fetchone()[0])
    if not conn.autocommit:
        conn.rollback()
    return tuple(values)


RO_OFF = "behind:SET default_transaction_read_only = off"
RO_ON = "behind:SET default_transaction_read_only = on"

# steps, then (dro, ddf, diso, tro, tiso) measured with psycopg2 2.9.10
SEQUENCES = [
    (["attr:autocommit=True", "ss:readonly=True", RO_OFF,
      "ss:readonly=True"], (ON, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "attr:readonly=True", RO_OFF,
      "attr:readonly=True"], (ON, OFF, RC, ON, RC)),
    (["ss:autocommit=True,readonly=True", RO_OFF,
      "ss:autocommit=True,readonly=True"], (ON, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:deferrable=True",
      "behind:SET default_transaction_deferrable = off",
      "ss:deferrable=True"], (OFF, ON, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:isolation_level='serializable'",
      "behind:SET default_transaction_isolation = 'read committed'",
      "ss:isolation_level='serializable'"], (OFF, OFF, SER, OFF, SER)),
    (["attr:autocommit=True", "attr:isolation_level=3",
      "behind:SET default_transaction_isolation = 'read committed'",
      "attr:isolation_level=3"], (OFF, OFF, SER, OFF, SER)),
    (["ss:autocommit=True,readonly=True,deferrable=True,isolation_level=3",
      "behind:RESET ALL",
      "ss:autocommit=True,readonly=True,deferrable=True,isolation_level=3"],
     (ON, ON, SER, ON, SER)),
    (["attr:autocommit=True", "ss:readonly=True", "reset"],
     (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "reset",
      "attr:autocommit=True", "ss:readonly=True"], (ON, OFF, RC, ON, RC)),
    (["ss:autocommit=True,readonly=True", "reset", "ss:readonly=True"],
     (OFF, OFF, RC, ON, RC)),
    (["ss:readonly=True,deferrable=False", "reset"],
     (OFF, OFF, RC, OFF, RC)),
    # autocommit toggles: the property sends nothing for the others
    (["ss:readonly=True", "attr:autocommit=True"], (OFF, OFF, RC, OFF, RC)),
    (["ss:readonly=True", "attr:autocommit=True", "attr:autocommit=False"],
     (OFF, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "attr:autocommit=False"],
     (OFF, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "attr:autocommit=False",
      "attr:autocommit=True"], (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:readonly=True", RO_ON,
      "attr:autocommit=False"], (OFF, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "attr:autocommit=False",
      RO_ON, "attr:autocommit=True"], (ON, OFF, RC, ON, RC)),
    (["ss:autocommit=True,readonly=True,deferrable=True,isolation_level=3",
      "ss:autocommit=False", "ss:autocommit=True"],
     (OFF, OFF, RC, OFF, RC)),
    # None leaves a characteristic alone, 'default' resets it
    (["attr:autocommit=True", "ss:readonly=True", "ss:readonly=None"],
     (ON, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "ss:readonly='default'"],
     (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "attr:readonly='default'"],
     (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "attr:readonly=None"],
     (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", RO_ON, "ss:readonly=False"],
     (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "ss:readonly=False", RO_ON,
      "ss:readonly=False"], (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", RO_ON, "ss:readonly='default'"],
     (OFF, OFF, RC, OFF, RC)),
    (["ss:readonly=True", "ss:readonly=None"], (OFF, OFF, RC, ON, RC)),
    (["ss:readonly=True", "ss:readonly=False"], (OFF, OFF, RC, OFF, RC)),
    (["ss:readonly=False", RO_ON], (ON, OFF, RC, OFF, RC)),
    (["ss:readonly='default'", RO_ON], (ON, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:isolation_level=2",
      "ss:isolation_level='DEFAULT'"], (OFF, OFF, RC, OFF, RC)),
    (["attr:autocommit=True", "attr:isolation_level=2",
      "attr:isolation_level=None"], (OFF, OFF, RC, OFF, RC)),
    # set_isolation_level(): rollback, then autocommit or a level
    (["attr:autocommit=True", "ss:readonly=True", "sil:2"],
     (OFF, OFF, RC, ON, RR)),
    (["ss:readonly=True", "sil:0"], (OFF, OFF, RC, OFF, RC)),
    (["sil:0", "ss:readonly=True", "sil:1"], (OFF, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True,isolation_level=2",
      "sil:None"], (OFF, OFF, RC, ON, RC)),
    (["attr:autocommit=True", "ss:readonly=True", "with"],
     (ON, OFF, RC, ON, RC)),
]


@pytest.mark.parametrize("steps, expected", SEQUENCES,
                         ids=[" ".join(s) for s, _ in SEQUENCES])
def test_session_sequence(dsn, steps, expected):
    conn = psycopg2.connect(dsn)
    try:
        for step in steps:
            apply(conn, step)
        assert server_state(conn) == expected
    finally:
        conn.close()


# -- reset(): psycopg2 2.9 sends ABORT (in a transaction) then DISCARD ALL --

def test_reset_discards_the_session(conn):
    cur = conn.cursor()
    cur.execute("PREPARE p AS SELECT 1")
    cur.execute("CREATE TEMP TABLE treset (a int)")
    cur.execute("LISTEN treset")
    conn.commit()
    cur.execute("SET application_name TO 'changed'")
    conn.reset()
    assert conn.status == psycopg2.extensions.STATUS_READY
    cur.execute("SELECT count(*) FROM pg_listening_channels()")
    assert cur.fetchone() == (0,)
    cur.execute("SHOW application_name")
    assert cur.fetchone() != ("changed",)
    cur.execute("SELECT to_regclass('treset')")
    assert cur.fetchone() == (None,)
    with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
        cur.execute("EXECUTE p")


def test_reset_in_a_transaction_opened_by_the_user(conn):
    # in autocommit the driver doesn't know about the user's BEGIN: as in
    # psycopg2, DISCARD ALL refuses to run in it
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("BEGIN")
    with pytest.raises(psycopg2.errors.ActiveSqlTransaction,
                       match="DISCARD ALL cannot run inside a transaction"):
        conn.reset()
    assert conn.status == psycopg2.extensions.STATUS_READY
    assert conn.autocommit
    cur.execute("ROLLBACK")
    conn.reset()
    assert not conn.autocommit
