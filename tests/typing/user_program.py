"""A realistic program using psycopg2, checked with ``mypy --strict``.

tests/test_typing.py type-checks it and also runs it against the test
server: ``python user_program.py DSN`` (on plain PostgreSQL the load
balancer finds no ``yb_servers()`` and connects to the given host).
"""

import datetime
import sys
import threading
import uuid
from decimal import Decimal
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from psycopg2 import sql
from psycopg2.extensions import connection, cursor


class Item(NamedTuple):
    id: int
    name: str
    price: Decimal


def connect_balanced(dsn: str) -> connection:
    """A load-balanced connection (any node of the cluster)."""
    conn: connection = psycopg2.connect(
        dsn, load_balance="true", yb_servers_refresh_interval=60)
    conn.autocommit = False
    return conn


def create_schema(conn: connection, table: str) -> None:
    with conn:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                sql.Identifier(table)))
            cur.execute(
                sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, "
                        "name text UNIQUE, price numeric, "
                        "added timestamptz DEFAULT now())").format(
                    sql.Identifier(table)))


def insert_items(conn: connection, table: str,
                 items: List[Tuple[str, Decimal]]) -> List[int]:
    with conn, conn.cursor() as cur:
        query = sql.SQL("INSERT INTO {} (name, price) VALUES %s "
                        "RETURNING id").format(sql.Identifier(table))
        rows = psycopg2.extras.execute_values(
            cur, query, items, page_size=50, fetch=True)
        return [int(r[0]) for r in rows]


def update_prices(conn: connection, table: str, factor: Decimal) -> int:
    with conn, conn.cursor() as cur:
        psycopg2.extras.execute_batch(
            cur,
            sql.SQL("UPDATE {} SET price = price * %s WHERE id = %s").format(
                sql.Identifier(table)),
            [(factor, 1), (factor, 2)])
        return cur.rowcount


def read_items(conn: connection, table: str) -> List[Item]:
    query = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in ("id", "name", "price")),
        sql.Identifier(table))
    with conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
        cur.execute(query)
        return [Item(r.id, r.name, r.price) for r in cur.fetchall()]


def read_dicts(conn: connection, table: str) -> List[Dict[str, Any]]:
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql.SQL("SELECT id, name FROM {} WHERE price > %(min)s")
                    .format(sql.Identifier(table)), {"min": Decimal("1")})
        return [dict(r) for r in cur.fetchall()]


def first_name(conn: connection, table: str) -> Optional[str]:
    with conn.cursor(cursor_factory=psycopg2.extras.DictCursor) as cur:
        cur.execute(sql.SQL("SELECT name FROM {} ORDER BY id LIMIT 1")
                    .format(sql.Identifier(table)))
        row = cur.fetchone()
        return None if row is None else str(row["name"])


def column_names(cur: cursor) -> List[str]:
    if cur.description is None:
        return []
    return [col.name for col in cur.description]


def server_side_total(conn: connection, table: str) -> Decimal:
    total = Decimal(0)
    with conn.cursor("big_read") as cur:
        cur.itersize = 2
        cur.execute(sql.SQL("SELECT price FROM {}").format(
            sql.Identifier(table)))
        for (price,) in cur:
            total += price
    conn.rollback()
    return total


def insert_duplicate(conn: connection, table: str, name: str) -> str:
    """Insert a name that exists: return the SQLSTATE of the error."""
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("INSERT INTO {} (name) VALUES (%s)").format(
                sql.Identifier(table)), (name,))
    except psycopg2.errors.UniqueViolation as e:
        assert e.diag.constraint_name is not None
        return e.pgcode or ""
    except psycopg2.Error as e:
        raise RuntimeError("unexpected error: %s" % e.pgerror) from e
    raise RuntimeError("the duplicate was accepted")


def json_range_uuid(conn: connection) -> Tuple[Dict[str, Any], bool, str]:
    psycopg2.extras.register_uuid(conn_or_curs=conn)
    with conn.cursor() as cur:
        cur.execute("SELECT %s::jsonb, %s::int4range @> 5, %s", (
            psycopg2.extras.Json({"a": [1, 2]}),
            psycopg2.extras.NumericRange(1, 10), uuid.UUID(int=1)))
        row = cur.fetchone()
        assert row is not None
    conn.rollback()
    return dict(row[0]), bool(row[1]), str(row[2])


def pool_work(dsn: str, table: str) -> List[int]:
    pool = psycopg2.pool.ThreadedConnectionPool(
        1, 4, dsn, load_balance="true")
    counts: List[int] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(table)))
                row = cur.fetchone()
                assert row is not None
                with lock:
                    counts.append(int(row[0]))
            conn.rollback()
        finally:
            pool.putconn(conn)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.closeall()
    return counts


def main(dsn: str) -> None:
    table = "typing_user_program"
    conn = connect_balanced(dsn)
    try:
        print("server", conn.server_version, "backend", conn.info.backend_pid,
              "on", conn.info.host)
        create_schema(conn, table)
        ids = insert_items(conn, table, [
            ("apple", Decimal("1.50")), ("pear", Decimal("2.25")),
            ("plum", Decimal("0.75"))])
        print("inserted", ids)
        print("updated", update_prices(conn, table, Decimal(2)))
        print("items", read_items(conn, table))
        print("dicts", read_dicts(conn, table))
        print("first", first_name(conn, table))
        print("total", server_side_total(conn, table))
        print("duplicate", insert_duplicate(conn, table, "apple"))
        print("json", json_range_uuid(conn))
        with conn.cursor() as cur:
            cur.execute("SELECT %s::date, %s", (
                datetime.date(2024, 1, 2), psycopg2.extensions.AsIs("1")))
            print("columns", column_names(cur), cur.fetchone())
            print("mogrify", cur.mogrify("SELECT %s", ("x",)).decode())
        conn.rollback()
        print("pool", pool_work(dsn, table))
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    finally:
        conn.close()
    print("closed", bool(conn.closed))


if __name__ == "__main__":
    main(sys.argv[1])
