"""Garbage collector support of every C type, on every Python version.

Each exception class is raised and freed, and every type of the extension
is created, freed and collected in a loop: directly, through a subclass
made in Python, in reference cycles and behind weak references.  A wrong
tp_dealloc/tp_traverse/tp_clear typically crashes the interpreter only on
some CPython versions (e.g. an object untracked twice, fatal on 3.9 and
3.10), so the loop runs in a child interpreter, with the collector running
very often, and a crash is reported as a test failure with its stack.
"""

import os
import subprocess
import sys
import textwrap

import psycopg2

# Run by the child interpreter: argv[1] is the dsn.  It prints "ok" at the
# end; any failure is an exception or a crash.
CHILD = textwrap.dedent(r'''
    import copy
    import datetime
    import decimal
    import gc
    import pickle
    import sys
    import weakref

    import psycopg2
    import psycopg2.errors
    import psycopg2.extensions as ext
    import psycopg2.extras

    DSN = sys.argv[1]
    LOOPS = 3

    def exception_classes():
        seen = set()
        for mod in (psycopg2, ext, psycopg2.errors, psycopg2.extras):
            for name in dir(mod):
                obj = getattr(mod, name)
                if (isinstance(obj, type) and issubclass(obj, Exception)
                        and obj.__module__.startswith("psycopg2")):
                    seen.add(obj)
        return sorted(seen, key=lambda c: (c.__module__, c.__name__))

    class Sentinel:
        pass

    def watch(obj):
        """A weak reference that dies with obj."""
        try:
            return weakref.ref(obj)
        except TypeError:   # no weakrefs: watch an attribute of it
            obj.sentinel = Sentinel()
            return weakref.ref(obj.sentinel)

    def check_collected(make, what):
        """make() returns an object; it must be freed, also in a cycle."""
        obj = make()
        ref = watch(obj)
        del obj
        gc.collect()
        assert ref() is None, "%s not freed" % what
        obj = make()
        obj.cycle = obj
        obj.box = [obj, {"self": obj}]
        ref = watch(obj)
        del obj
        gc.collect()
        assert ref() is None, "%s in a cycle not collected" % what

    def subclass(base):
        return type("Py" + base.__name__, (base,), {})

    def exercise_exceptions(classes, conn):
        refs = []
        for cls in classes:
            for c in (cls, subclass(cls)):
                try:
                    raise c("boom")
                except c as e:
                    assert gc.is_tracked(e), c
                    str(e), e.args
                    if issubclass(c, psycopg2.Error):
                        e.pgerror, e.pgcode, e.cursor, e.diag.sqlstate
                        copy.copy(e)
                        if c is cls:
                            pickle.loads(pickle.dumps(e))
                # freed by the collector only: a cycle, and an exception
                # kept alive by its own traceback's frame
                obj = c("x")
                obj.cycle = [obj]
                refs.append((watch(obj), c))
                try:
                    raise c("cycle")
                except c as e:
                    kept = e
                kept.me = kept
                refs.append((watch(kept), c))
                del obj, kept
        gc.collect()
        for ref, c in refs:
            assert ref() is None, "%s in a cycle not collected" % c
        # errors from the server, with cursor, diagnostics and cycles
        cur = conn.cursor()
        for _ in range(5):
            try:
                cur.execute("select * from no_such_table_gc")
            except psycopg2.errors.UndefinedTable as e:
                diag = e.diag
                assert gc.is_tracked(diag)
                diag.message_primary, diag.sqlstate
                ext.Diagnostics(e).table_name
                e.me = e
                e.diag_kept = diag
            conn.rollback()
        try:
            cur.execute("select 1/0")
        except psycopg2.DataError as e:
            err = e
        conn.rollback()
        ref = weakref.ref(err)
        del err
        gc.collect()
        assert ref() is None, "server error with its diag not collected"

    def exercise_connections():
        for factory in (ext.connection, subclass(ext.connection)):
            def make():
                c = psycopg2.connect(DSN, connection_factory=factory)
                c.cursor().execute("select 1")
                c.info.server_version
                return c
            check_collected(make, factory.__name__)
            # weakref to the base type directly, freed open and closed
            c = psycopg2.connect(DSN, connection_factory=factory)
            ref = weakref.ref(c)
            c.close()
            del c
            gc.collect()
            assert ref() is None, factory
        conn = psycopg2.connect(DSN)
        info = conn.info
        assert gc.is_tracked(info)
        check_collected(lambda: subclass(ext.ConnectionInfo)(conn),
                        "ConnectionInfo")
        conn.close()

    def exercise_cursors(conn):
        names = []
        for factory in (ext.cursor, subclass(ext.cursor),
                        psycopg2.extras.DictCursor,
                        psycopg2.extras.RealDictCursor,
                        psycopg2.extras.NamedTupleCursor):
            def make():
                cur = conn.cursor(cursor_factory=factory)
                cur.execute("select 1 as a, 'x'::text as b, "
                            "'\\x00'::bytea as c")
                cur.fetchall()
                cur.description
                return cur
            check_collected(make, factory.__name__)
            def make_named():
                # the server cursor outlives the object (as in psycopg2)
                names.append("gc_named_%d" % len(names))
                cur = conn.cursor(names[-1], cursor_factory=factory)
                cur.execute("select generate_series(1, 10) as a")
                cur.fetchmany(3)
                return cur
            check_collected(make_named, "named " + factory.__name__)
            conn.rollback()
        cur = conn.cursor()
        cur.execute("select 1 as a")
        col = cur.description[0]
        assert gc.is_tracked(col)
        del cur
        col.name
        gc.collect()
        check_collected(lambda: subclass(ext.Column)(name="n"), "Column")
        # a cursor referenced by its own connection's attributes
        conn.cycle_cursor = conn.cursor()
        conn.cycle_cursor.execute("select 1")
        del conn.cycle_cursor

    def exercise_lobjects(conn):
        sub = subclass(ext.lobject)
        for factory in (ext.lobject, sub):
            lo = conn.lobject(0, "wb", lobject_factory=factory)
            lo.write(b"data")
            oid = lo.oid
            lo.close()
            del lo
            check_collected(
                lambda: conn.lobject(oid, "rb", lobject_factory=sub),
                "lobject")
            # freed while still open
            lo = conn.lobject(oid, "rb", lobject_factory=factory)
            del lo
            gc.collect()
            conn.lobject(oid, "rb").unlink()
        conn.rollback()

    def exercise_small_types(conn):
        n = ext.Notify(1, "chan", "payload")
        assert gc.is_tracked(n)
        del n
        check_collected(lambda: subclass(ext.Notify)(2, "c"), "Notify")
        x = conn.xid(1, "gtrid", "bqual")
        assert gc.is_tracked(x)
        x = ext.Xid.from_string("unparsed")
        del x
        check_collected(lambda: subclass(ext.Xid)(1, "g", "b"), "Xid")
        caster = ext.new_type((705,), "GCTEST", lambda v, c: v)
        assert gc.is_tracked(caster)
        arr = ext.new_array_type((1015,), "GCTESTARR", caster)
        # a caster whose function refers to the caster itself
        holder = {}
        holder["c"] = ext.new_type((705,), "GCSELF",
                                   lambda v, c, h=holder: h and v)
        del caster, arr, holder
        gc.collect()

    def adapted_values():
        return [
            None, True, 1, 2 ** 70, 1.5, decimal.Decimal("1.5"), "text",
            b"bytes", bytearray(b"ba"), memoryview(b"mv"), [1, [2, 3]],
            (1, 2), datetime.date(2020, 1, 2), datetime.time(1, 2, 3),
            datetime.datetime(2020, 1, 2, 3, 4, 5),
            datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc),
            datetime.timedelta(days=1, seconds=2),
            psycopg2.extras.Json({"a": [1]}),
            psycopg2.extras.NumericRange(1, 5),
        ]

    def exercise_adapters(conn):
        types = set()
        done = set()
        for value in adapted_values():
            a = ext.adapt(value)
            types.add(type(a))
            if hasattr(a, "prepare"):
                a.prepare(conn)
            a.getquoted()
            del a
        for cls in (ext.AsIs, ext.QuotedString, ext.Binary,
                    ext.Boolean, ext.Float, ext.Int, ext.ISQLQuote,
                    psycopg2._psycopg.Decimal, psycopg2._psycopg.List,
                    ext.SQL_IN, psycopg2._psycopg.NoneAdapter):
            types.add(cls)
        for cls in sorted(types, key=lambda t: t.__name__):
            if not isinstance(cls, type) or not cls.__module__.startswith(
                    ("psycopg2", "builtins")):
                continue
            if not (cls.__flags__ & (1 << 10)):     # Py_TPFLAGS_BASETYPE
                continue
            sub = subclass(cls)
            args = {"Binary": (b"x",), "QuotedString": ("x",),
                    "List": ([1],), "SQL_IN": ((1,),), "Boolean": (True,),
                    "Float": (1.0,), "Int": (1,),
                    "Decimal": (decimal.Decimal(1),),
                    "datetime": (datetime.date(2020, 1, 2), 1),
                    "Json": ({"a": 1},),
                    "NumberRangeAdapter": (
                        psycopg2.extras.NumericRange(1, 2),),
                    }.get(cls.__name__, (None,))
            sub(*args)
            done.add(cls.__name__)
            def make(sub=sub, args=args):
                a = sub(*args)
                if hasattr(a, "prepare"):
                    a.prepare(conn)
                return a
            check_collected(make, cls.__name__)
        assert done >= {"AsIs", "Binary", "Boolean", "Decimal", "Float",
                        "ISQLQuote", "Int", "List", "NoneAdapter",
                        "QuotedString", "SQL_IN", "datetime"}, done
        # a cycle through an adapter's wrapped object
        for cls in (ext.AsIs, psycopg2._psycopg.List, ext.QuotedString):
            box = []
            a = cls(box) if cls is not ext.QuotedString else cls("q")
            box.append(a)
            if cls is ext.QuotedString:
                a.prepare(conn)
            del a, box
            gc.collect()

    def exercise_replication():
        rconn = psycopg2.connect(
            DSN, connection_factory=psycopg2.extras.LogicalReplicationConnection)
        cur = rconn.cursor()
        msg = psycopg2.extras.ReplicationMessage(cur, b"payload")
        assert gc.is_tracked(msg)
        del msg
        check_collected(
            lambda: subclass(psycopg2.extras.ReplicationMessage)(cur, b"p"),
            "ReplicationMessage")
        ref = weakref.ref(cur)
        del cur
        gc.collect()
        assert ref() is None, "ReplicationCursor not freed"
        ref = weakref.ref(rconn)
        rconn.close()
        del rconn
        gc.collect()
        assert ref() is None, "ReplicationConnection not freed"
        check_collected(
            lambda: psycopg2.connect(
                DSN,
                connection_factory=psycopg2.extras.
                PhysicalReplicationConnection),
            "PhysicalReplicationConnection")

    def main():
        gc.set_threshold(5, 2, 2)   # collect very often, mid-construction
        classes = exception_classes()
        assert len(classes) > 200, len(classes)
        conn = psycopg2.connect(DSN)
        for _ in range(LOOPS):
            exercise_exceptions(classes, conn)
            exercise_connections()
            exercise_cursors(conn)
            exercise_lobjects(conn)
            exercise_small_types(conn)
            exercise_adapters(conn)
            exercise_replication()
            gc.collect()
        conn.close()
        del conn
        gc.collect()
        print("ok")

    main()
''')


def test_create_free_collect_every_type(dsn):
    """Every C type and exception survives create/free/collect cycles."""
    env = dict(os.environ)
    env["PYTHONFAULTHANDLER"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(psycopg2.__file__))]
        + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    res = subprocess.run(
        [sys.executable, "-c", CHILD, dsn], env=env, timeout=240,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", (
        "child interpreter failed (exit status %s; a negative status is "
        "the signal that killed it):\n%s\n%s"
        % (res.returncode, res.stdout[-3000:], res.stderr[-6000:]))
