"""Tests for the type support of psycopg2.extras: uuid, inet/ipaddress,
hstore and composite types."""

import ipaddress
import uuid
import warnings

import pytest

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras as extras
from psycopg2.extras import (
    CompositeCaster, HstoreAdapter, Inet, UUID_adapter, register_composite,
    register_hstore, register_inet, register_ipaddress, register_uuid)


@pytest.fixture(autouse=True)
def restore_globals():
    """Undo the global registrations (adapters, typecasters) of a test."""
    adapters = dict(ext.adapters)
    string_types = dict(ext.string_types)
    yield
    ext.adapters.clear()
    ext.adapters.update(adapters)
    ext.string_types.clear()
    ext.string_types.update(string_types)


@pytest.fixture
def cur(conn):
    return conn.cursor()


@pytest.fixture
def conn2(dsn):
    c = psycopg2.connect(dsn)
    yield c
    c.close()


# --- uuid -------------------------------------------------------------------

U1 = uuid.UUID("12345678-1234-5678-1234-567812345678")
U2 = uuid.UUID("9c6b5ea5-61c4-4a5b-9d43-1b3f5c2c7a10")


def test_uuid_adapter():
    a = UUID_adapter(U1)
    assert a.getquoted() == b"'12345678-1234-5678-1234-567812345678'::uuid"
    assert str(a) == "'12345678-1234-5678-1234-567812345678'::uuid"
    assert a.__conform__(ext.ISQLQuote) is a


def test_uuid_not_registered_by_default(cur):
    cur.execute("select %s::uuid", (str(U1),))
    assert cur.fetchone()[0] == str(U1)
    with pytest.raises(psycopg2.ProgrammingError, match="can't adapt"):
        cur.execute("select %s", (U1,))


def test_register_uuid(cur):
    caster = register_uuid()
    assert caster is ext.UUID
    assert ext.UUID.values == (2950,)
    assert ext.UUIDARRAY.values == (2951,)
    cur.execute("select %s, %s::uuid[], null::uuid, %s",
                (U1, [U1, None, U2], [U2]))
    assert cur.fetchone() == (U1, [U1, None, U2], None, [U2])
    assert cur.mogrify("%s", (U1,)) == \
        b"'12345678-1234-5678-1234-567812345678'::uuid"


def test_register_uuid_table(cur):
    register_uuid()
    cur.execute("create temp table tu (id uuid primary key, ids uuid[])")
    cur.execute("insert into tu values (%s, %s)", (U1, [U2, U1]))
    cur.execute("select * from tu where id = %s", (U1,))
    assert cur.fetchone() == (U1, [U2, U1])


def test_register_uuid_scoped(conn, conn2):
    register_uuid(conn_or_curs=conn)
    cur = conn.cursor()
    cur.execute("select %s::uuid", (str(U1),))
    assert cur.fetchone()[0] == U1
    cur2 = conn2.cursor()
    cur2.execute("select %s::uuid", (str(U1),))
    assert cur2.fetchone()[0] == str(U1)


def test_register_uuid_oids(cur):
    register_uuid(oids=2950)
    assert ext.UUIDARRAY.values == (2951,)
    register_uuid(oids=(2950, 2951))
    cur.execute("select %s::uuid, array[%s::uuid]", (str(U1), str(U2)))
    assert cur.fetchone() == (U1, [U2])


# --- inet (deprecated) ------------------------------------------------------

def test_inet_object(cur):
    i = Inet("192.168.1.0/24")
    assert i.addr == "192.168.1.0/24"
    assert repr(i) == "Inet('192.168.1.0/24')"
    assert str(i) == "192.168.1.0/24"
    assert cur.mogrify("%s", (i,)) == b"'192.168.1.0/24'::inet"
    assert cur.mogrify("%s", (Inet("x'y"),)) == b"'x''y'::inet"


def test_register_inet(cur):
    with pytest.warns(DeprecationWarning):
        caster = register_inet()
    assert caster is ext.INET
    cur.execute("select %s, array['::1'::inet, null], null::inet",
                (Inet("10.0.0.1/8"),))
    r = cur.fetchone()
    assert isinstance(r[0], Inet) and r[0].addr == "10.0.0.1/8"
    assert [type(x) for x in r[1]] == [Inet, type(None)]
    assert r[1][0].addr == "::1"
    assert r[2] is None


def test_register_inet_scoped(conn, conn2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        register_inet(conn_or_curs=conn)
    cur = conn.cursor()
    cur.execute("select '1.2.3.4'::inet")
    assert isinstance(cur.fetchone()[0], Inet)
    cur2 = conn2.cursor()
    cur2.execute("select '1.2.3.4'::inet")
    assert cur2.fetchone()[0] == "1.2.3.4"


# --- ipaddress --------------------------------------------------------------

def test_ipaddress_cast(cur):
    register_ipaddress()
    cur.execute("""select '1.2.3.4/24'::inet, '127.0.0.1'::inet,
        '::ffff:1.2.3.4/128'::inet, '10.0.0.0/8'::cidr, '2001:db8::/32'::cidr,
        null::inet, null::cidr""")
    r = cur.fetchone()
    assert r[0] == ipaddress.IPv4Interface("1.2.3.4/24")
    assert r[1] == ipaddress.IPv4Interface("127.0.0.1/32")
    assert r[2] == ipaddress.IPv6Interface("::ffff:1.2.3.4/128")
    assert r[3] == ipaddress.IPv4Network("10.0.0.0/8")
    assert r[4] == ipaddress.IPv6Network("2001:db8::/32")
    assert r[5] is None and r[6] is None


def test_ipaddress_arrays(cur):
    register_ipaddress()
    cur.execute("select array['1.2.3.4'::inet, null, '::1'], "
                "array['10.0.0.0/8'::cidr]")
    r = cur.fetchone()
    assert r[0] == [ipaddress.ip_interface("1.2.3.4"), None,
                    ipaddress.ip_interface("::1")]
    assert r[1] == [ipaddress.ip_network("10.0.0.0/8")]


def test_ipaddress_adapt(cur):
    register_ipaddress()
    values = [
        ipaddress.ip_interface("1.2.3.4/24"),
        ipaddress.ip_interface("::1/128"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    ]
    assert cur.mogrify("%s", (values[0],)) == b"'1.2.3.4/24'"
    cur.execute("select %s::inet, %s::inet, %s::cidr, %s::cidr", values)
    assert list(cur.fetchone()) == values
    cur.execute("select %s::inet[]", ([values[0], values[1]],))
    assert cur.fetchone()[0] == values[:2]


def test_ipaddress_scoped(conn, conn2):
    register_ipaddress(conn)
    cur = conn.cursor()
    cur.execute("select '1.2.3.4'::inet")
    assert cur.fetchone()[0] == ipaddress.ip_interface("1.2.3.4")
    cur2 = conn2.cursor()
    cur2.execute("select '1.2.3.4'::inet")
    assert cur2.fetchone()[0] == "1.2.3.4"


def test_ipaddress_address_not_adapted(cur):
    register_ipaddress()
    with pytest.raises(psycopg2.ProgrammingError):
        cur.execute("select %s", (ipaddress.ip_address("1.2.3.4"),))


# --- hstore -----------------------------------------------------------------

@pytest.fixture(scope="module")
def hstore_dsn(dsn):
    """DSN of a database with the hstore extension installed."""
    dbname = "psycopg2_test_hstore"
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    acur = admin.cursor()
    acur.execute("drop database if exists %s" % dbname)
    acur.execute("create database %s" % dbname)
    hdsn = ext.make_dsn(dsn, dbname=dbname)
    c = psycopg2.connect(hdsn)
    c.autocommit = True
    c.cursor().execute("create extension hstore")
    c.close()
    yield hdsn
    acur.execute("drop database if exists %s" % dbname)
    admin.close()


@pytest.fixture
def hconn(hstore_dsn):
    c = psycopg2.connect(hstore_dsn)
    yield c
    c.close()


def test_hstore_missing(dsn):
    dbname = "psycopg2_test_nohstore"
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    acur = admin.cursor()
    acur.execute("drop database if exists %s" % dbname)
    acur.execute("create database %s" % dbname)
    try:
        conn = psycopg2.connect(ext.make_dsn(dsn, dbname=dbname))
        try:
            with pytest.raises(psycopg2.ProgrammingError,
                               match="hstore type not found in the database"):
                register_hstore(conn)
            # the catalog query didn't leave a transaction open
            assert conn.info.transaction_status == \
                ext.TRANSACTION_STATUS_IDLE
        finally:
            conn.close()
    finally:
        acur.execute("drop database if exists %s" % dbname)
        admin.close()


def test_hstore_get_oids(hconn):
    cur = hconn.cursor()
    cur.execute("select 'hstore'::regtype::oid, 'hstore[]'::regtype::oid")
    oid, aoid = cur.fetchone()
    hconn.rollback()
    assert HstoreAdapter.get_oids(hconn) == ((oid,), (aoid,))
    assert HstoreAdapter.get_oids(hconn.cursor()) == ((oid,), (aoid,))


def test_hstore_roundtrip(hconn):
    register_hstore(hconn)
    cur = hconn.cursor()
    d = {
        "a": "1", "b": None, "": "empty key", "sp ace": "",
        'quo"te': "back\\slash", "arrow=>": "comma, sep", "\u20ac": "\xe8",
        "NULL": "NULL",
    }
    cur.execute("select %s", (d,))
    assert cur.fetchone()[0] == d
    cur.execute("select %s::hstore -> 'b', (%s::hstore) -> 'quo\"te'",
                (d, d))
    assert cur.fetchone() == (None, "back\\slash")


def test_hstore_values_from_server(hconn):
    register_hstore(hconn)
    cur = hconn.cursor()
    cur.execute("""select 'a=>1, b=>NULL, "c d"=>"x\\\\\\"y"'::hstore,
        ''::hstore, null::hstore""")
    assert cur.fetchone() == (
        {"a": "1", "b": None, "c d": 'x\\"y'}, {}, None)


def test_hstore_adapter_sql(hconn):
    register_hstore(hconn)
    cur = hconn.cursor()
    assert cur.mogrify("%s", ({},)) == b"''::hstore"
    assert cur.mogrify("%s", ({"a": "1", "b": None},)) == \
        b"hstore(ARRAY['a','b'], ARRAY['1',NULL])"


def test_hstore_array(hconn):
    register_hstore(hconn)
    cur = hconn.cursor()
    cur.execute("select array['a=>1'::hstore, null, ''::hstore]")
    assert cur.fetchone()[0] == [{"a": "1"}, None, {}]
    cur.execute("select %s::hstore[]", ([{"x": "y"}, {}],))
    assert cur.fetchone()[0] == [{"x": "y"}, {}]


def test_hstore_big(hconn):
    register_hstore(hconn)
    cur = hconn.cursor()
    d = {"k%d" % i: "v%d" % i for i in range(2000)}
    cur.execute("select %s", (d,))
    assert cur.fetchone()[0] == d


def test_hstore_scope_connection(hconn, hstore_dsn):
    register_hstore(hconn)
    other = psycopg2.connect(hstore_dsn)
    try:
        ocur = other.cursor()
        ocur.execute("select 'a=>1'::hstore")
        assert ocur.fetchone()[0] == '"a"=>"1"'
    finally:
        other.close()


def test_hstore_scope_cursor(hconn):
    cur = hconn.cursor()
    register_hstore(cur)
    cur.execute("select 'a=>1'::hstore")
    assert cur.fetchone()[0] == {"a": "1"}
    cur2 = hconn.cursor()
    cur2.execute("select 'a=>1'::hstore")
    assert cur2.fetchone()[0] == '"a"=>"1"'


def test_hstore_globally(hconn, hstore_dsn):
    register_hstore(hconn, globally=True)
    other = psycopg2.connect(hstore_dsn)
    try:
        ocur = other.cursor()
        ocur.execute("select 'a=>1'::hstore")
        assert ocur.fetchone()[0] == {"a": "1"}
    finally:
        other.close()


def test_hstore_unicode_option(hconn):
    register_hstore(hconn, unicode=True)
    cur = hconn.cursor()
    cur.execute("select %s", ({"\xe0": "\u20ac"},))
    assert cur.fetchone()[0] == {"\xe0": "\u20ac"}


def test_hstore_explicit_oid(hconn, hstore_dsn):
    cur = hconn.cursor()
    cur.execute("select 'hstore'::regtype::oid, 'hstore[]'::regtype::oid")
    oid, aoid = cur.fetchone()
    hconn.rollback()
    # no catalog query: works with an integer oid too
    register_hstore(hconn, oid=oid, array_oid=aoid)
    cur.execute("select 'a=>b'::hstore, array['c=>d'::hstore]")
    assert cur.fetchone() == ({"a": "b"}, [{"c": "d"}])
    other = psycopg2.connect(hstore_dsn)
    try:
        register_hstore(other, oid=(oid,))
        ocur = other.cursor()
        ocur.execute("select 'a=>b'::hstore")
        assert ocur.fetchone()[0] == {"a": "b"}
    finally:
        other.close()


def test_hstore_transaction_state(hconn):
    register_hstore(hconn)
    assert hconn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE
    cur = hconn.cursor()
    cur.execute("select 1")
    register_hstore(hconn)
    assert hconn.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS
    hconn.rollback()
    hconn.autocommit = True
    register_hstore(hconn)
    assert hconn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE


def test_hstore_parse():
    assert HstoreAdapter.parse(None, None) is None
    assert HstoreAdapter.parse("", None) == {}
    assert HstoreAdapter.parse('"a"=>"1", "b"=>NULL', None) == \
        {"a": "1", "b": None}
    assert HstoreAdapter.parse(r'"a\"b"=>"c\\d"', None) == {'a"b': "c\\d"}
    with pytest.raises(psycopg2.InterfaceError):
        HstoreAdapter.parse("junk", None)
    with pytest.raises(psycopg2.InterfaceError):
        HstoreAdapter.parse('"a"=>"1", junk', None)


# --- composite types --------------------------------------------------------

@pytest.fixture(scope="module")
def composite_types(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    cur = c.cursor()
    cur.execute("""
        drop schema if exists h_comp cascade;
        drop type if exists public.h_point cascade;
        create schema h_comp;
        create type h_comp.h_card as (value int, suit text);
        create type h_comp.h_hand as (id int, cards h_comp.h_card[],
                                    top h_comp.h_card);
        create type h_comp.evolve as (a int, b text, c date);
        alter type h_comp.evolve drop attribute b;
        create type h_comp."Mixed Case" as (x int);
        create type h_comp.bad_names as ("class" int);
        create table h_comp.tbl (id serial, label text);
        create type public.h_point as (x float8, y float8);
    """)
    yield
    cur.execute("drop schema h_comp cascade; drop type public.h_point")
    c.close()


@pytest.fixture
def ccur(conn, composite_types):
    return conn.cursor()


def catalog_oids(cur, name):
    cur.execute("select %s::regtype::oid, (select typarray from pg_type"
                " where oid = %s::regtype)", (name, name))
    res = cur.fetchone()
    cur.connection.rollback()
    return res


def test_composite_caster_attributes(conn, ccur):
    oid, aoid = catalog_oids(ccur, "h_comp.h_card")
    caster = register_composite("h_comp.h_card", conn)
    assert isinstance(caster, CompositeCaster)
    assert caster.name == "h_card"
    assert caster.schema == "h_comp"
    assert caster.oid == oid
    assert caster.array_oid == aoid
    assert caster.attnames == ["value", "suit"]
    assert caster.atttypes == [23, 25]
    assert caster.type._fields == ("value", "suit")
    assert caster.typecaster.values == (oid,)
    assert caster.array_typecaster.values == (aoid,)


def test_composite_cast(conn, ccur):
    caster = register_composite("h_comp.h_card", conn)
    ccur.execute("""select (8, 'hearts')::h_comp.h_card, null::h_comp.h_card,
        (null, null)::h_comp.h_card, (1, '')::h_comp.h_card,
        (2, '"q" \\ (,)')::h_comp.h_card""")
    r = ccur.fetchone()
    assert isinstance(r[0], caster.type)
    assert r[0] == (8, "hearts")
    assert r[0].value == 8 and r[0].suit == "hearts"
    assert r[1] is None
    assert r[2] == (None, None)
    assert r[3] == (1, "")
    assert r[4] == (2, '"q" \\ (,)')


def test_composite_array(conn, ccur):
    register_composite("h_comp.h_card", conn)
    ccur.execute("""select array[(1, 'a b')::h_comp.h_card, null,
                                 (2, null)::h_comp.h_card]""")
    assert ccur.fetchone()[0] == [(1, "a b"), None, (2, None)]


def test_composite_nested(conn, ccur):
    register_composite("h_comp.h_card", conn)
    hand = register_composite("h_comp.h_hand", conn)
    ccur.execute("""select (1, array[(1, 'x')::h_comp.h_card,
        (2, 'y,z')::h_comp.h_card], (3, 'top')::h_comp.h_card
        )::h_comp.h_hand""")
    r = ccur.fetchone()[0]
    assert isinstance(r, hand.type)
    assert r.id == 1
    assert r.cards == [(1, "x"), (2, "y,z")]
    assert r.top.suit == "top"


def test_composite_adapt_back(conn, ccur):
    caster = register_composite("h_comp.h_card", conn)
    card = caster.type(5, "spades")
    ccur.execute("select %s::h_comp.h_card", (card,))
    assert ccur.fetchone()[0] == card
    ccur.execute("select %s::h_comp.h_card[]", ([card, caster.type(6, None)],))
    assert ccur.fetchone()[0] == [(5, "spades"), (6, None)]


def test_composite_public_unqualified(conn, ccur):
    caster = register_composite("h_point", conn)
    assert caster.schema == "public"
    ccur.execute("select (1.5, -2)::h_point")
    assert ccur.fetchone()[0] == (1.5, -2.0)


def test_composite_search_path(conn, ccur):
    ccur.execute("set search_path to h_comp, public")
    caster = register_composite("h_card", conn)
    assert caster.schema == "h_comp"
    ccur.execute("select (1, 'x')::h_card")
    assert ccur.fetchone()[0].suit == "x"


def test_composite_quoted_name(conn, ccur):
    caster = register_composite('h_comp."Mixed Case"', conn)
    assert caster.name == "Mixed Case"
    ccur.execute('select row(7)::h_comp."Mixed Case"')
    assert ccur.fetchone()[0].x == 7


def test_composite_dropped_attribute(conn, ccur):
    caster = register_composite("h_comp.evolve", conn)
    assert caster.attnames == ["a", "c"]
    ccur.execute("select row(1, '2020-01-01')::h_comp.evolve")
    r = ccur.fetchone()[0]
    assert r.a == 1 and str(r.c) == "2020-01-01"


def test_composite_table_row_type(conn, ccur):
    caster = register_composite("h_comp.tbl", conn)
    assert caster.attnames == ["id", "label"]
    ccur.execute("insert into h_comp.tbl (label) values ('x')")
    ccur.execute("select t from h_comp.tbl t")
    assert ccur.fetchone()[0].label == "x"
    conn.rollback()


def test_composite_not_found(conn, composite_types):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="PostgreSQL type 'h_nope' not found"):
        register_composite("h_nope", conn)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="PostgreSQL type 'h_comp.nope' not found"):
        register_composite("h_comp.nope", conn)
    # not in the search path
    with pytest.raises(psycopg2.ProgrammingError, match="not found"):
        register_composite("h_card", conn)
    # not a composite
    with pytest.raises(psycopg2.ProgrammingError, match="not found"):
        register_composite("int4", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE


def test_composite_invalid_attribute_name(conn, composite_types):
    with pytest.raises(ValueError):
        register_composite("h_comp.bad_names", conn)


def test_composite_transaction_state(conn, ccur):
    register_composite("h_comp.h_card", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE
    ccur.execute("select 1")
    register_composite("h_comp.h_card", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS
    conn.rollback()


def test_composite_scope(conn, conn2, composite_types):
    register_composite("h_comp.h_card", conn)
    cur2 = conn2.cursor()
    cur2.execute("select (1, 'a')::h_comp.h_card")
    assert cur2.fetchone()[0] == "(1,a)"


def test_composite_scope_cursor(conn, ccur):
    register_composite("h_comp.h_card", ccur)
    ccur.execute("select (1, 'a')::h_comp.h_card")
    assert ccur.fetchone()[0] == (1, "a")
    other = conn.cursor()
    other.execute("select (1, 'a')::h_comp.h_card")
    assert other.fetchone()[0] == "(1,a)"


def test_composite_globally(conn, dsn, composite_types):
    register_composite("h_comp.h_card", conn, globally=True)
    c = psycopg2.connect(dsn)
    try:
        cur = c.cursor()
        cur.execute("select (1, 'a')::h_comp.h_card")
        assert cur.fetchone()[0] == (1, "a")
    finally:
        c.close()


def test_composite_factory(conn, ccur):
    class DictComposite(CompositeCaster):
        def make(self, values):
            return dict(zip(self.attnames, values))

    caster = register_composite("h_comp.h_card", conn, factory=DictComposite)
    assert isinstance(caster, DictComposite)
    ccur.execute("select (8, 'hearts')::h_comp.h_card")
    assert ccur.fetchone()[0] == {"value": 8, "suit": "hearts"}


def test_composite_manual_caster(conn, ccur):
    oid, aoid = catalog_oids(ccur, "h_comp.h_card")
    caster = CompositeCaster("card", oid, [("value", 23), ("suit", 25)],
                             array_oid=aoid)
    ext.register_type(caster.typecaster, conn)
    ext.register_type(caster.array_typecaster, conn)
    ccur.execute("select (3, 'x')::h_comp.h_card, "
                 "array[(4, 'y')::h_comp.h_card]")
    assert ccur.fetchone() == ((3, "x"), [(4, "y")])


def test_composite_wrong_number_of_attributes(conn, ccur):
    caster = register_composite("h_comp.h_card", conn)
    with pytest.raises(psycopg2.DataError, match="expecting 2 components"):
        caster.parse("(1,2,3)", ccur)


def test_composite_tokenize():
    assert CompositeCaster.tokenize('(1,"a""b",,"")') == \
        ["1", 'a"b', None, ""]
    assert CompositeCaster.tokenize('("x\\\\y","(,)")') == ["x\\y", "(,)"]
    assert CompositeCaster.tokenize("(,)") == [None, None]


def test_composite_caster_with_dict_cursor(conn, composite_types):
    register_composite("h_comp.h_card", conn)
    cur = conn.cursor(cursor_factory=extras.RealDictCursor)
    cur.execute("select (1, 'a')::h_comp.h_card as c")
    assert cur.fetchone()["c"].suit == "a"
