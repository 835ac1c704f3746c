"""SQLAlchemy 2.x on our driver, through its ``postgresql+psycopg2`` dialect.

The dialect uses a large part of the psycopg2 API (extras.execute_batch,
JSON and UUID registration, set_session, autocommit, server-side cursors,
disconnect detection): a good end-to-end check of the drop-in claim.
"""

import datetime
import decimal
import uuid

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import (  # noqa: E402
    ARRAY, JSON, BigInteger, Boolean, Column, Date, DateTime, Float,
    ForeignKey, Integer, Interval, LargeBinary, MetaData, Numeric, String,
    Table, Text, Uuid, bindparam, create_engine, event, func, insert,
    select, text, update)
from sqlalchemy.engine import URL  # noqa: E402
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase, Mapped, Session, mapped_column, relationship)

import psycopg2  # noqa: E402


def dsn_url(dsn):
    """SQLAlchemy URL for a libpq `key=value` dsn."""
    params = dict(p.split("=", 1) for p in dsn.split())
    port = params.pop("port", None)
    return URL.create(
        "postgresql+psycopg2", username=params.pop("user", None),
        password=params.pop("password", None),
        host=params.pop("host", None), port=int(port) if port else None,
        database=params.pop("dbname", None), query=params)


def make_engine(dsn, **kwargs):
    return create_engine(dsn_url(dsn), **kwargs)


@pytest.fixture
def engine(dsn):
    eng = make_engine(dsn)
    yield eng
    eng.dispose()


@pytest.fixture
def items(engine):
    """Table `sa_items` with a column of each type; dropped afterwards."""
    md = MetaData()
    t = Table(
        "sa_items", md,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False),
        Column("big", BigInteger),
        Column("price", Numeric(10, 2)),
        Column("ratio", Float),
        Column("flag", Boolean),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("naive", DateTime),
        Column("span", Interval),
        Column("doc", JSON),
        Column("docb", JSONB),
        Column("tags", ARRAY(Text)),
        Column("nums", ARRAY(Integer)),
        Column("blob", LargeBinary),
        Column("uid", Uuid),
    )
    md.drop_all(engine)
    md.create_all(engine)
    yield t
    md.drop_all(engine)


SAMPLE = dict(
    name="caf\u00e9 \u20ac",
    big=2 ** 62,
    price=decimal.Decimal("1234.50"),
    ratio=0.125,
    flag=True,
    day=datetime.date(2024, 2, 29),
    at=datetime.datetime(2024, 2, 29, 12, 30, 15, 123456,
                         tzinfo=datetime.timezone.utc),
    naive=datetime.datetime(1999, 12, 31, 23, 59, 59),
    span=datetime.timedelta(days=2, hours=3, microseconds=4),
    doc={"a": [1, 2.5, None, "x"], "b": {"c": True}},
    docb={"k": "v", "n": 10},
    tags=["red", "green", "with space", "quo'te"],
    nums=[3, 1, 2],
    blob=b"\x00\x01\xfe\xff binary",
    uid=uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
)


def test_connect_and_dialect(engine):
    with engine.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1
        assert engine.dialect.driver == "psycopg2"
        assert engine.dialect.server_version_info >= (9, 0)
        raw = c.connection.dbapi_connection
        assert isinstance(raw, psycopg2.extensions.connection)


def test_text_with_params(engine):
    with engine.connect() as c:
        row = c.execute(text("SELECT :a || '%' AS s, :b + 1 AS n"),
                        {"a": "100", "b": 41}).one()
        assert row.s == "100%"
        assert row.n == 42


def test_types_roundtrip(engine, items):
    with engine.begin() as c:
        c.execute(insert(items), dict(SAMPLE, id=1))
    with engine.connect() as c:
        row = c.execute(select(items).where(items.c.id == 1)).one()
    got = row._asdict()
    for key, value in SAMPLE.items():
        assert got[key] == value, key
    assert isinstance(got["price"], decimal.Decimal)
    assert isinstance(got["uid"], uuid.UUID)
    assert isinstance(got["blob"], bytes)
    assert got["at"].utcoffset() == datetime.timedelta(0)


def test_nulls(engine, items):
    with engine.begin() as c:
        c.execute(insert(items), {"id": 2, "name": "empty"})
        row = c.execute(select(items).where(items.c.id == 2)).one()
    assert row.name == "empty"
    assert all(v is None for k, v in row._asdict().items()
               if k not in ("id", "name"))


def test_insert_many_values(engine, items):
    rows = [{"name": "n%03d" % i, "big": i * 10, "tags": ["t%d" % i]}
            for i in range(250)]
    with engine.begin() as c:
        c.execute(insert(items), rows)
        result = c.execute(
            insert(items).returning(items.c.id, items.c.name,
                                    sort_by_parameter_order=True),
            [{"name": "r%d" % i} for i in range(120)])
        returned = result.all()
    assert [r.name for r in returned] == ["r%d" % i for i in range(120)]
    assert len({r.id for r in returned}) == 120
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(items)).scalar() \
            == 370
        assert c.execute(select(items.c.tags)
                         .where(items.c.name == "n123")).scalar() == ["t123"]


def test_insert_values_list(engine, items):
    stmt = insert(items).values([{"id": 10, "name": "a"},
                                 {"id": 11, "name": "b"},
                                 {"id": 12, "name": "c"}])
    with engine.begin() as c:
        assert c.execute(stmt).rowcount == 3
        names = c.execute(select(items.c.name).order_by(items.c.id))
        assert names.scalars().all() == ["a", "b", "c"]


@pytest.mark.parametrize("mode", ["values_only", "values_plus_batch"])
def test_executemany_update(dsn, mode):
    eng = make_engine(dsn, executemany_mode=mode)
    md = MetaData()
    t = Table("sa_batch", md, Column("id", Integer, primary_key=True),
              Column("v", String(20)))
    try:
        md.drop_all(eng)
        md.create_all(eng)
        with eng.begin() as c:
            c.execute(insert(t), [{"id": i, "v": "old"} for i in range(50)])
            # executemany of an UPDATE: execute_batch with values_plus_batch
            c.execute(update(t).where(t.c.id == bindparam("b_id"))
                      .values(v=bindparam("b_v")),
                      [{"b_id": i, "b_v": "new%d" % i}
                       for i in range(0, 50, 2)])
        with eng.connect() as c:
            rows = c.execute(select(t.c.id, t.c.v).order_by(t.c.id)).all()
        assert rows[0] == (0, "new0")
        assert rows[1] == (1, "old")
        assert rows[48] == (48, "new48")
        assert sum(1 for r in rows if r.v.startswith("new")) == 25
    finally:
        md.drop_all(eng)
        eng.dispose()


def test_transactions(engine, items):
    with engine.connect() as c:
        with c.begin():
            c.execute(insert(items), {"id": 1, "name": "kept"})
        tx = c.begin()
        c.execute(insert(items), {"id": 2, "name": "discarded"})
        tx.rollback()
        with pytest.raises(ZeroDivisionError):
            with c.begin():
                c.execute(insert(items), {"id": 3, "name": "failed"})
                1 / 0
        names = c.execute(select(items.c.name)).scalars().all()
        c.rollback()
    assert names == ["kept"]


def test_savepoints(engine, items):
    with engine.begin() as c:
        c.execute(insert(items), {"id": 1, "name": "outer"})
        sp = c.begin_nested()
        c.execute(insert(items), {"id": 2, "name": "inner"})
        sp.rollback()
        with c.begin_nested():
            c.execute(insert(items), {"id": 3, "name": "inner ok"})
    with engine.connect() as c:
        ids = c.execute(select(items.c.id).order_by(items.c.id))
        assert ids.scalars().all() == [1, 3]


def test_integrity_error_wrapped(engine, items):
    with engine.connect() as c:
        c.execute(insert(items), {"id": 1, "name": "x"})
        with pytest.raises(sqlalchemy.exc.IntegrityError) as exc:
            c.execute(insert(items), {"id": 1, "name": "dup"})
        assert isinstance(exc.value.orig, psycopg2.IntegrityError)
        assert exc.value.orig.pgcode == "23505"
        c.rollback()


@pytest.mark.parametrize("level, shown", [
    ("SERIALIZABLE", "serializable"),
    ("REPEATABLE READ", "repeatable read"),
    ("READ COMMITTED", "read committed"),
])
def test_isolation_levels(engine, level, shown):
    with engine.connect().execution_options(isolation_level=level) as c:
        assert c.execute(text("SHOW transaction_isolation")).scalar() == shown
        assert c.get_isolation_level() == level


def test_autocommit_level(engine):
    with engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as c:
        raw = c.connection.dbapi_connection
        assert raw.autocommit
        c.execute(text("CREATE TABLE sa_autocommit (a int)"))
    try:
        with engine.connect() as c:
            assert c.execute(text(
                "SELECT count(*) FROM sa_autocommit")).scalar() == 0
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE sa_autocommit"))


def test_stream_results(engine):
    with engine.connect() as c:
        result = c.execution_options(stream_results=True,
                                     max_row_buffer=100).execute(
            text("SELECT generate_series(1, 5000) AS n"))
        cursor = result.cursor
        assert cursor.name  # a psycopg2 named (server-side) cursor
        total = sum(r.n for r in result)
    assert total == 5000 * 5001 // 2


def test_pre_ping_recovers_from_disconnect(dsn):
    eng = make_engine(dsn, pool_size=1, pool_pre_ping=True)
    try:
        with eng.connect() as c:
            pid = c.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = psycopg2.connect(dsn)
        killer.autocommit = True
        try:
            killer.cursor().execute(
                "SELECT pg_terminate_backend(%s, 60000)", (pid,))
        finally:
            killer.close()
        with eng.connect() as c:
            new_pid = c.execute(text("SELECT pg_backend_pid()")).scalar()
        assert new_pid != pid
    finally:
        eng.dispose()


def test_disconnect_is_detected(dsn):
    eng = make_engine(dsn, pool_size=1)
    try:
        with eng.connect() as c:
            pid = c.execute(text("SELECT pg_backend_pid()")).scalar()
            killer = psycopg2.connect(dsn)
            killer.autocommit = True
            killer.cursor().execute(
                "SELECT pg_terminate_backend(%s, 60000)", (pid,))
            killer.close()
            with pytest.raises(sqlalchemy.exc.OperationalError) as exc:
                c.execute(text("SELECT 1"))
            assert exc.value.connection_invalidated
        # the pool replaced the dead connection
        with eng.connect() as c:
            assert c.execute(text("SELECT 1")).scalar() == 1
    finally:
        eng.dispose()


def test_events_see_dbapi_cursor(engine):
    seen = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(type(cursor))

    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    assert seen and issubclass(seen[0], psycopg2.extensions.cursor)


# --- ORM -------------------------------------------------------------------------

class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "sa_authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    born: Mapped[datetime.date] = mapped_column(nullable=True)
    books: Mapped[list["Book"]] = relationship(
        back_populates="author", cascade="all, delete-orphan",
        order_by="Book.id")


class Book(Base):
    __tablename__ = "sa_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    meta: Mapped[dict] = mapped_column(JSONB, default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("sa_authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


@pytest.fixture
def orm_engine(engine):
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)


def test_orm_crud(orm_engine):
    with Session(orm_engine) as s:
        a = Author(name="Ada", born=datetime.date(1815, 12, 10))
        a.books = [Book(title="Notes %d" % i,
                        price=decimal.Decimal("9.99") + i,
                        meta={"n": i}) for i in range(30)]
        s.add(a)
        s.add(Author(name="Alan"))
        s.commit()
        aid = a.id

    with Session(orm_engine) as s:
        a = s.get(Author, aid)
        assert a.name == "Ada"
        assert a.born == datetime.date(1815, 12, 10)
        assert len(a.books) == 30
        assert a.books[3].price == decimal.Decimal("12.99")
        assert a.books[3].meta == {"n": 3}
        a.books[0].title = "Renamed"
        del a.books[-1]
        s.commit()

    with Session(orm_engine) as s:
        titles = s.scalars(select(Book.title).order_by(Book.id)).all()
        assert titles[0] == "Renamed"
        assert len(titles) == 29
        alan = s.scalars(select(Author).where(Author.name == "Alan")).one()
        s.delete(alan)
        s.commit()
        assert s.scalar(select(func.count(Author.id))) == 1


def test_orm_rollback(orm_engine):
    with Session(orm_engine) as s:
        s.add(Author(id=1, name="first"))
        s.commit()
        s.add(Author(id=1, name="duplicate"))
        with pytest.raises(sqlalchemy.exc.IntegrityError):
            s.commit()
        s.rollback()
        assert [a.name for a in s.scalars(select(Author))] == ["first"]


def test_orm_bulk_insert_and_join(orm_engine):
    with Session(orm_engine) as s:
        s.execute(insert(Author), [{"id": i, "name": "a%d" % i}
                                   for i in range(1, 21)])
        s.execute(insert(Book), [
            {"title": "b%d" % i, "price": decimal.Decimal(i),
             "author_id": 1 + i % 20, "meta": {}} for i in range(200)])
        s.commit()
        q = (select(Author.name, func.count(Book.id))
             .join(Book).group_by(Author.name).order_by(Author.name))
        rows = s.execute(q).all()
        assert len(rows) == 20
        assert all(n == 10 for _, n in rows)
