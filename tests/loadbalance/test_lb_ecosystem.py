"""The YugabyteDB Python ecosystem on top of this driver, load balanced.

sqlalchemy-yugabytedb (the ``yugabytedb`` SQLAlchemy dialect), SQLAlchemy's
own ``postgresql+psycopg2`` dialect and django-yugabytedb (the
``django_yugabytedb`` Django backend) against a local 5-node cluster:
models created by the ORM, rows written and read, connections spread over
the nodes and counted on each node's pg_stat_activity.

The stand-in cluster is made of independent PostgreSQL servers: a row
written on one node is not seen on another, so every node gets its table
from the ORM, and rows are read back on the connection that wrote them.
Both ORM packages read the YugabyteDB version from ``version()``
("...-YB-2.20.7.0-..."): each node gets a ``public.version()`` with such
a string, found first through the connections' ``search_path``.
"""

import sys
import threading
from importlib import metadata

import pytest

import psycopg2

from lbhelpers import NodeSpec, start_cluster

EAST = ["aws.us-east-1.us-east-1%s" % z for z in "abcd"]
WEST = "aws.us-west-2.us-west-2a"
YB_VERSION = ("PostgreSQL 11.2-YB-2.20.7.0-b0 on x86_64-pc-linux-gnu, "
              "compiled by clang version 16.0.6, 64-bit")
SEARCH_PATH = "-c search_path=public,pg_catalog"


def need(module, package):
    try:
        return __import__(module)
    except ImportError:
        pytest.fail("%s is not installed (see tests/requirements.txt)"
                    % package)


@pytest.fixture(scope="module")
def django_on_psycopg2():
    """Make Django's PostgreSQL backend take psycopg2 (this driver).

    Django 4.2 prefers psycopg 3 when ``import psycopg`` works, and here it
    would: the C sources directory ``psycopg/`` of the tree is importable
    as a namespace package from the current directory.
    """
    saved = sys.modules.get("psycopg", False)
    sys.modules["psycopg"] = None       # import psycopg: ImportError
    yield
    if saved is False:
        del sys.modules["psycopg"]
    else:
        sys.modules["psycopg"] = saved


@pytest.fixture(scope="module")
def cluster():
    # nodes 1-4 in us-east-1 (one zone each), node 5 in us-west-2
    c = start_cluster([NodeSpec(p) for p in EAST] + [NodeSpec(WEST)])
    try:
        for i in c.nodes:
            c.psql(i, "CREATE FUNCTION public.version() RETURNS text "
                   "LANGUAGE sql IMMUTABLE AS $$ SELECT '%s'::text $$"
                   % YB_VERSION)
        yield c
    finally:
        c.destroy()


def hosts(cluster, *indexes):
    return {cluster.nodes[i].host for i in indexes}


def all_hosts(cluster):
    return {n.host for n in cluster.nodes.values()}


def wait_spread(cluster, app, want):
    counts = cluster.wait_counts(want, application_name=app)
    assert counts == want, "connections per node %s, expected %s" % (
        counts, want)
    return counts


# -- what pip installed ------------------------------------------------------

def _providers():
    out = {}
    for dist in metadata.distributions():
        top = (dist.read_text("top_level.txt") or "").split()
        files = [str(f) for f in dist.files or ()]
        if "psycopg2" in top or any(f.startswith("psycopg2/")
                                    for f in files):
            out[dist.metadata["Name"].lower()] = dist.version
    return out


def test_no_other_psycopg2_installed(django_on_psycopg2):
    # sqlalchemy-yugabytedb requires "psycopg2-yugabytedb": it must be
    # satisfied by this driver, not by another copy of psycopg2 from the
    # index (psycopg2-yugabytedb 2.9.3.x, psycopg2, psycopg2-binary)
    need("sqlalchemy_yugabytedb", "sqlalchemy-yugabytedb")
    need("django_yugabytedb", "django-yugabytedb")
    ours = psycopg2.__version__.split()[0]
    providers = _providers()
    assert len(providers) <= 1, providers
    for name, version in providers.items():
        assert name in ("psycopg2-yugabytedb",
                        "psycopg2-yugabytedb-binary"), providers
        assert version == ours, providers
    reqs = metadata.requires("sqlalchemy-yugabytedb") or []
    assert [r for r in reqs if r.lower().startswith("psycopg2")] == [
        "psycopg2-yugabytedb"], reqs
    assert not [r for r in metadata.requires("django-yugabytedb") or []
                if "psycopg" in r.lower()]
    from django_yugabytedb import base
    assert base.Database is psycopg2


# -- SQLAlchemy -----------------------------------------------------------

def sa_url(cluster, dialect, app, **query):
    from sqlalchemy.engine import URL
    first = cluster.nodes[1]
    query = dict(query, application_name=app, options=SEARCH_PATH)
    return URL.create(dialect, username="yugabyte", host=first.host,
                      port=cluster.port, database="yugabyte", query=query)


def sa_model():
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Reading(Base):
        __tablename__ = "eco_sa_readings"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        writer: Mapped[int] = mapped_column(Integer, index=True)
        sensor: Mapped[str] = mapped_column(String(40))
        value: Mapped[int] = mapped_column(Integer)

    return Base, Reading


def test_sqlalchemy_yugabytedb_orm_load_balanced(cluster):
    need("sqlalchemy_yugabytedb", "sqlalchemy-yugabytedb")
    from sqlalchemy import create_engine, func, inspect, select, text
    from sqlalchemy.orm import Session
    Base, Reading = sa_model()
    app = "eco-sa-yb"
    engine = create_engine(
        sa_url(cluster, "yugabytedb+psycopg2", app, load_balance="true"),
        pool_size=10, max_overflow=0)
    held = []
    try:
        assert engine.dialect.name == "yugabytedb"
        for _ in range(10):
            held.append(engine.connect())
        counts = wait_spread(cluster, app,
                             {h: 2 for h in all_hosts(cluster)})
        assert engine.dialect._is_v28plus is True
        written = {}
        for k, conn in enumerate(held):
            # the ORM creates the table (once per node: nodes are separate
            # servers here), writes 3 rows and reads them back
            Base.metadata.create_all(conn, checkfirst=True)
            conn.commit()
            with Session(bind=conn) as s:
                s.add_all([Reading(writer=k, sensor="s%d" % j,
                                   value=k * 10 + j) for j in range(3)])
                s.commit()
                rows = s.scalars(select(Reading).where(Reading.writer == k)
                                 .order_by(Reading.value)).all()
                assert [(r.sensor, r.value) for r in rows] == [
                    ("s%d" % j, k * 10 + j) for j in range(3)]
            host = conn.execute(text("SELECT host(inet_server_addr())")
                                ).scalar_one()
            written[host] = written.get(host, 0) + 3
            assert inspect(conn).has_table("eco_sa_readings")
        assert written == {h: 6 for h in all_hosts(cluster)}
        # every node holds the rows of its two connections
        for conn in held:
            n = conn.execute(select(func.count()).select_from(Reading)
                             ).scalar_one()
            host = conn.execute(text("SELECT host(inet_server_addr())")
                                ).scalar_one()
            assert n == written[host]
        assert sum(counts.values()) == 10
    finally:
        for conn in held:
            conn.close()
        engine.dispose()
        for i in cluster.running_nodes():
            cluster.psql(i, "DROP TABLE IF EXISTS eco_sa_readings")


def test_sqlalchemy_pool_of_12_topology_keys_and_pre_ping(cluster):
    need("sqlalchemy", "SQLAlchemy")
    from sqlalchemy import create_engine, text
    app = "eco-sa-pool"
    east = hosts(cluster, 1, 2, 3, 4)
    west = hosts(cluster, 5)
    url = ("postgresql+psycopg2://yugabyte@%s:%d/yugabyte"
           "?load_balance=true&topology_keys=aws.us-east-1.*"
           "&application_name=%s" % (cluster.nodes[1].host, cluster.port,
                                     app))
    engine = create_engine(url, pool_size=12, max_overflow=0,
                           pool_pre_ping=True, pool_timeout=30)
    held = []

    def checkout_all():
        for _ in range(12):
            held.append(engine.connect())
        seen = {}
        for conn in held:
            host = conn.execute(text("SELECT host(inet_server_addr())")
                                ).scalar_one()
            seen[host] = seen.get(host, 0) + 1
        return seen

    def checkin_all():
        while held:
            held.pop().close()

    try:
        seen = checkout_all()
        assert seen == {h: 3 for h in east}, seen
        wait_spread(cluster, app, dict({h: 3 for h in east},
                                       **{h: 0 for h in west}))
        checkin_all()
        assert engine.pool.checkedin() == 12

        # node 4 goes down: its 3 pooled connections are dead; pre-ping
        # finds them on checkout and the pool reconnects, through the
        # balancer, to the live nodes of the topology
        cluster.stop_node(4)
        live_east = hosts(cluster, 1, 2, 3)
        seen = checkout_all()
        assert seen == {h: 4 for h in live_east}, seen
        wait_spread(cluster, app, dict({h: 4 for h in live_east},
                                       **{h: 0 for h in west}))
    finally:
        checkin_all()
        engine.dispose()
        cluster.start_node(4)


# -- Django -----------------------------------------------------------------

@pytest.fixture(scope="module")
def django_db(cluster, django_on_psycopg2):
    """Django configured for the cluster, load balancing on; its model."""
    django = need("django", "Django")
    need("django_yugabytedb", "django-yugabytedb")
    from django.conf import settings
    assert not settings.configured, "Django already configured here"
    first = cluster.nodes[1]
    settings.configure(
        DATABASES={"default": {
            "ENGINE": "django_yugabytedb",
            "NAME": "yugabyte", "USER": "yugabyte",
            "HOST": first.host, "PORT": str(cluster.port),
            "LOAD_BALANCE": "true",
            "CONN_MAX_AGE": 0,
            "OPTIONS": {"application_name": "eco-django",
                        "options": SEARCH_PATH},
        }},
        INSTALLED_APPS=[], USE_TZ=True, TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField")
    django.setup()
    from django.db import models

    class Order(models.Model):
        writer = models.IntegerField(db_index=True)
        item = models.CharField(max_length=40)
        quantity = models.IntegerField()
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "eco"
            db_table = "eco_django_orders"

    yield Order
    for i in cluster.running_nodes():
        cluster.psql(i, "DROP TABLE IF EXISTS eco_django_orders")


def test_django_yugabytedb_orm_load_balanced(cluster, django_db):
    Order = django_db
    from django.db import connection
    n_threads = 10
    barrier = threading.Barrier(n_threads + 1, timeout=60)
    release = threading.Event()
    create_lock = threading.Lock()
    results, errors = {}, []

    def worker(k):
        try:
            with create_lock:
                if "eco_django_orders" not in \
                        connection.introspection.table_names():
                    with connection.schema_editor() as editor:
                        editor.create_model(Order)
            for j in range(3):
                Order.objects.create(writer=k, item="item%d" % j,
                                     quantity=k * 10 + j)
            rows = list(Order.objects.filter(writer=k).order_by("quantity")
                        .values_list("item", "quantity"))
            with connection.cursor() as cur:
                cur.execute("SELECT host(inet_server_addr())")
                host = cur.fetchone()[0]
            results[k] = (host, rows, connection.yugabytedb_version,
                          connection.vendor)
        except Exception as e:      # reported by the main thread
            errors.append((k, repr(e)))
        finally:
            try:
                barrier.wait()
                release.wait(60)
            finally:
                connection.close()

    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(n_threads)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
        assert not errors, errors
        # 10 Django connections (one per thread) over the 5 nodes
        wait_spread(cluster, "eco-django",
                    {h: 2 for h in all_hosts(cluster)})
    finally:
        release.set()
        for t in threads:
            t.join(60)
    assert not errors, errors
    per_host = {}
    for k, (host, rows, version, vendor) in sorted(results.items()):
        assert rows == [("item%d" % j, k * 10 + j) for j in range(3)]
        assert version == (2, 20) and vendor == "yugabyte"
        per_host[host] = per_host.get(host, 0) + 1
    assert per_host == {h: 2 for h in all_hosts(cluster)}
    # server side: each node holds the rows of its two connections
    for i in cluster.nodes:
        out = cluster.psql(i, "SELECT count(*) FROM eco_django_orders")
        assert int(out.strip()) == 6
    wait_spread(cluster, "eco-django", {h: 0 for h in all_hosts(cluster)})
