"""The Notify type (items of connection.notifies)."""

import pytest

from psycopg2.extensions import Notify


def test_attributes():
    n = Notify(10, "chan", "pay")
    assert (n.pid, n.channel, n.payload) == (10, "chan", "pay")
    assert Notify(10, "chan").payload == ""
    assert Notify(pid=1, channel="x", payload="y").payload == "y"
    with pytest.raises(AttributeError):
        n.pid = 3


def test_constructor_errors():
    with pytest.raises(TypeError):
        Notify(1)
    with pytest.raises(TypeError):
        Notify()


def test_repr():
    assert repr(Notify(10, "chan")) == "Notify(10, 'chan', '')"
    assert str(Notify(10, "chan", "p")) == "Notify(10, 'chan', 'p')"


def test_sequence_of_two():
    n = Notify(10, "chan", "pay")
    assert len(n) == 2
    assert (n[0], n[1], n[-1], n[-2]) == (10, "chan", "chan", 10)
    with pytest.raises(IndexError, match="index out of range"):
        n[2]
    pid, channel = n
    assert (pid, channel) == (10, "chan")
    assert tuple(n) == (10, "chan")


def test_equality_with_notify():
    assert Notify(10, "chan") == Notify(10, "chan")
    assert Notify(10, "chan", "p") == Notify(10, "chan", "p")
    assert Notify(10, "chan", "p") != Notify(10, "chan")
    assert Notify(10, "chan") != Notify(11, "chan")


def test_equality_with_tuples():
    # tuples are compared with (pid, channel) only
    assert Notify(10, "chan") == (10, "chan")
    assert Notify(10, "chan", "p") == (10, "chan")
    assert Notify(10, "chan") != (10, "chan", "")
    assert Notify(10, "chan", "p") != (10, "chan", "p")
    assert Notify(10, "chan") < (11, "a")


def test_comparison_with_other_types_is_false():
    # psycopg2 answers False to every comparison with other types
    n = Notify(10, "chan")
    for other in ([10, "chan"], 1, None, "x"):
        assert not (n == other)
        assert not (n != other)
        assert not (n < other)


def test_hash():
    assert hash(Notify(10, "chan")) == hash((10, "chan"))
    assert hash(Notify(10, "chan", "p")) == hash((10, "chan", "p"))
    d = {Notify(10, "chan"): 1}
    assert d[(10, "chan")] == 1


def test_subclass():
    class MyNotify(Notify):
        pass

    n = MyNotify(1, "a", "b")
    assert n == Notify(1, "a", "b")
