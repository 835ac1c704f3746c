"""LISTEN/NOTIFY end to end: connection.notifies and Notify objects."""

import collections
import select
import threading

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext
from psycopg2.extensions import Notify


@pytest.fixture
def listener(dsn):
    """An autocommit connection, the way psycopg2 recommends listening."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def sender(dsn):
    """An autocommit connection sending notifications."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    yield conn
    conn.close()


def listen(conn, *channels):
    cur = conn.cursor()
    for channel in channels:
        cur.execute('listen "%s"' % channel.replace('"', '""'))


def notify(conn, channel, payload=None):
    cur = conn.cursor()
    if payload is None:
        cur.execute("select pg_notify(%s, NULL)", (channel,))
    else:
        cur.execute("select pg_notify(%s, %s)", (channel, payload))


def wait_notifies(conn, count, timeout=30.0):
    """select() and poll() an idle connection until `count` notifications
    arrived; return conn.notifies."""
    while len(conn.notifies) < count:
        ready = select.select([conn], [], [], timeout)[0]
        assert ready, "no notification arrived"
        conn.poll()
    return conn.notifies


# -- arrival -----------------------------------------------------------------

def test_notifies_is_an_empty_list(conn):
    assert conn.notifies == []
    assert isinstance(conn.notifies, list)


def test_arrive_with_a_query(listener, sender):
    listen(listener, "test_q")
    notify(sender, "test_q", "payload")
    assert listener.notifies == []     # nothing read from the socket yet
    listener.cursor().execute("select 1")
    assert listener.notifies == [
        Notify(sender.info.backend_pid, "test_q", "payload")]


def test_arrive_with_poll_on_an_idle_connection(listener, sender):
    listen(listener, "test_poll")
    notify(sender, "test_poll", "p1")
    notify(sender, "test_poll", "p2")
    got = wait_notifies(listener, 2)
    assert [(n.channel, n.payload) for n in got] == [
        ("test_poll", "p1"), ("test_poll", "p2")]
    assert all(n.pid == sender.info.backend_pid for n in got)
    # poll() with nothing pending returns POLL_OK and adds nothing
    assert listener.poll() == ext.POLL_OK
    assert len(listener.notifies) == 2


def test_listener_loop_in_a_thread(dsn, sender):
    """The documented pattern: a thread waiting with select() and poll()."""
    got, errors = [], []
    ready = threading.Event()

    def listen_loop():
        try:
            conn = psycopg2.connect(dsn)
            try:
                conn.autocommit = True
                listen(conn, "test_thread")
                ready.set()
                while not any(n.payload == "stop" for n in got):
                    if select.select([conn], [], [], 30)[0] == []:
                        raise RuntimeError("timed out")
                    conn.poll()
                    while conn.notifies:
                        got.append(conn.notifies.pop(0))
            finally:
                conn.close()
        except Exception as e:
            errors.append(e)
            ready.set()

    thread = threading.Thread(target=listen_loop)
    thread.start()
    assert ready.wait(30)
    for payload in ("a", "b", "stop"):
        notify(sender, "test_thread", payload)
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []
    assert [n.payload for n in got] == ["a", "b", "stop"]


def test_own_notification(listener):
    listen(listener, "test_self")
    listener.cursor().execute("notify test_self, 'me'")
    assert listener.notifies == [
        (listener.info.backend_pid, "test_self")]
    assert listener.notifies[0].payload == "me"


def test_several_listeners(dsn, sender):
    conns = [psycopg2.connect(dsn) for _ in range(3)]
    try:
        for c in conns:
            c.autocommit = True
            listen(c, "test_many")
        notify(sender, "test_many", "all")
        for c in conns:
            assert wait_notifies(c, 1) == [
                Notify(sender.info.backend_pid, "test_many", "all")]
    finally:
        for c in conns:
            c.close()


def test_only_listened_channels(listener, sender):
    listen(listener, "test_yes")
    notify(sender, "test_no", "x")
    notify(sender, "test_yes", "y")
    assert [n.channel for n in wait_notifies(listener, 1)] == ["test_yes"]
    listener.cursor().execute("select 1")
    assert len(listener.notifies) == 1


def test_unlisten(listener, sender):
    listen(listener, "test_un")
    listener.cursor().execute("unlisten test_un")
    notify(sender, "test_un", "lost")
    listen(listener, "test_un2")
    notify(sender, "test_un2", "kept")
    assert [n.payload for n in wait_notifies(listener, 1)] == ["kept"]


# -- transactions ------------------------------------------------------------

def test_sent_at_commit_not_at_rollback(listener, dsn):
    listen(listener, "test_tx")
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("notify test_tx, 'rolled back'")
        conn.rollback()
        cur.execute("notify test_tx, 'committed'")
        listener.cursor().execute("select 1")
        assert listener.notifies == []
        conn.commit()
        got = wait_notifies(listener, 1)
        assert [n.payload for n in got] == ["committed"]
    finally:
        conn.close()


def test_duplicates_in_a_transaction_are_folded(listener, dsn):
    listen(listener, "test_dup")
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        for payload in ("d", "d", "e", "d"):
            cur.execute("notify test_dup, %s", (payload,))
        cur.execute("notify test_dup, 'end'")
        conn.commit()
    finally:
        conn.close()
    got = wait_notifies(listener, 3)
    assert [n.payload for n in got] == ["d", "e", "end"]


def test_listener_in_a_transaction_gets_them_after_it(dsn, sender):
    # the server delivers notifications only between transactions
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("listen test_intx")
        conn.commit()
        cur.execute("select 1")
        notify(sender, "test_intx", "wait")
        cur.execute("select pg_sleep(0.1)")
        assert conn.notifies == []
        conn.commit()
        assert [n.payload for n in wait_notifies(conn, 1)] == ["wait"]
    finally:
        conn.close()


def test_listen_rolled_back(dsn, sender):
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("listen test_nolisten")
        conn.rollback()
        cur.execute("listen test_listen")
        conn.commit()
        notify(sender, "test_nolisten", "lost")
        notify(sender, "test_listen", "kept")
        conn.autocommit = True
        assert [n.payload for n in wait_notifies(conn, 1)] == ["kept"]
    finally:
        conn.close()


# -- payloads and channels ---------------------------------------------------

def test_no_payload_is_empty_string(listener, sender):
    listen(listener, "test_empty")
    notify(sender, "test_empty")
    sender.cursor().execute("notify test_empty")
    got = wait_notifies(listener, 1)
    assert got[0].payload == ""
    assert got[0] == Notify(sender.info.backend_pid, "test_empty")


@pytest.mark.parametrize("payload", [
    "hello", "with 'quotes' and \"double\"", "unicode: \u00e8 \u20ac \u4e2d",
    "line\nbreak\ttab", "x" * 7999,
])
def test_payloads(listener, sender, payload):
    listen(listener, "test_payload")
    notify(sender, "test_payload", payload)
    assert wait_notifies(listener, 1)[0].payload == payload


def test_payload_too_long(sender):
    with pytest.raises(psycopg2.errors.InvalidParameterValue,
                       match="payload string too long"):
        notify(sender, "test_long", "x" * 8000)


def test_payload_in_client_encoding(listener, sender):
    listener.set_client_encoding("LATIN1")
    listen(listener, "test_latin1")
    notify(sender, "test_latin1", "caf\u00e9")
    assert wait_notifies(listener, 1)[0].payload == "caf\u00e9"


@pytest.mark.parametrize("channel", [
    "MixedCase", "with space", "quo\"te", "\u00e8t\u00e9",
])
def test_channel_names(listener, sender, channel):
    listen(listener, channel)
    notify(sender, channel, "p")
    assert wait_notifies(listener, 1)[0].channel == channel


# -- Notify objects ----------------------------------------------------------

def test_notify_objects(listener, sender):
    listen(listener, "test_obj")
    notify(sender, "test_obj", "data")
    n = wait_notifies(listener, 1)[0]
    pid = sender.info.backend_pid
    assert type(n) is Notify
    assert (n.pid, n.channel, n.payload) == (pid, "test_obj", "data")
    assert repr(n) == "Notify(%d, 'test_obj', 'data')" % pid
    # equal to (pid, channel) tuples, as in psycopg2 < 2.3
    assert n == (pid, "test_obj")
    assert n != (pid, "other")
    pid2, channel = n
    assert (pid2, channel) == (pid, "test_obj")
    assert n[0] == pid and n[1] == "test_obj"
    assert n == Notify(pid, "test_obj", "data")
    assert n != Notify(pid, "test_obj", "other")
    assert hash(n) == hash(Notify(pid, "test_obj", "data"))
    assert n in {Notify(pid, "test_obj", "data")}


# -- replacing the notifies container ----------------------------------------

def test_notifies_replaced_by_a_deque(listener, sender):
    listener.notifies = collections.deque(maxlen=2)
    listen(listener, "test_deque")
    for payload in ("1", "2", "3"):
        notify(sender, "test_deque", payload)
    listener.cursor().execute("select pg_sleep(0.05)")
    # a deque has no len-based wait: poll until the last one arrived
    while not listener.notifies or listener.notifies[-1].payload != "3":
        assert select.select([listener], [], [], 30)[0]
        listener.poll()
    assert isinstance(listener.notifies, collections.deque)
    assert [n.payload for n in listener.notifies] == ["2", "3"]


def test_notifies_replaced_by_any_object_with_append(listener, sender):
    class Collector:
        def __init__(self):
            self.got = []

        def append(self, item):
            self.got.append(item)

    collector = Collector()
    listener.notifies = collector
    assert listener.notifies is collector
    listen(listener, "test_append")
    notify(sender, "test_append", "x")
    while not collector.got:
        assert select.select([listener], [], [], 30)[0]
        listener.poll()
    assert collector.got == [(sender.info.backend_pid, "test_append")]
    assert collector.got[0].payload == "x"


# -- documentation -----------------------------------------------------------

def run_doc_page(name, dsn):
    """Run the examples of doc/`name` as a doctest; return how many."""
    import doctest
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "doc", name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"dsn": dsn}, name, path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    return runner.tries


def test_doc_page_examples(dsn):
    assert run_doc_page("notify.rst", dsn) > 25
