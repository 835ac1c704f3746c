"""Tests of psycopg2.tz."""

import datetime
import pickle
import time

import pytest

from psycopg2 import tz
from psycopg2.tz import FixedOffsetTimezone, LocalTimezone

td = datetime.timedelta


@pytest.mark.parametrize("args, offset, name", [
    ((), td(0), "+00"),
    ((None,), td(0), "+00"),
    ((60,), td(hours=1), "+01"),
    ((-300,), td(hours=-5), "-05"),
    ((330,), td(hours=5, minutes=30), "+05:30"),
    ((-90,), td(minutes=-90), "-01:30"),
    ((1.5,), td(seconds=90), "+00:01:30"),
    ((td(hours=2),), td(hours=2), "+02"),
    ((td(seconds=45),), td(seconds=45), "+00:00:45"),
    ((td(hours=-5, minutes=-30, seconds=-15),),
        td(hours=-5, minutes=-30, seconds=-15), "-05:30:15"),
    ((0, "UTC"), td(0), "UTC"),
    ((None, "X"), td(0), "X"),
    ((120, "CEST"), td(hours=2), "CEST"),
])
def test_fixed_offset(args, offset, name):
    tzinfo = FixedOffsetTimezone(*args)
    assert tzinfo.utcoffset(None) == offset
    assert tzinfo.tzname(None) == name
    assert tzinfo.dst(None) == td(0)
    dt = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=tzinfo)
    assert dt.utcoffset() == offset
    assert dt.tzname() == name


def test_keyword_args():
    tzinfo = FixedOffsetTimezone(offset=60, name="a")
    assert tzinfo.utcoffset(None) == td(hours=1)
    assert tzinfo.tzname(None) == "a"


def test_repr():
    assert repr(FixedOffsetTimezone(60)) == (
        "psycopg2.tz.FixedOffsetTimezone("
        "offset=datetime.timedelta(seconds=3600), name=None)")
    assert repr(FixedOffsetTimezone(0, "UTC")) == (
        "psycopg2.tz.FixedOffsetTimezone("
        "offset=datetime.timedelta(0), name='UTC')")
    assert str(FixedOffsetTimezone(60)) == repr(FixedOffsetTimezone(60))


def test_cache():
    assert FixedOffsetTimezone(60) is FixedOffsetTimezone(60)
    assert FixedOffsetTimezone(60, "x") is FixedOffsetTimezone(60, "x")
    assert FixedOffsetTimezone(60) is not FixedOffsetTimezone(60, "x")
    td1 = td(hours=1)
    assert FixedOffsetTimezone(td1) is FixedOffsetTimezone(td(minutes=60))


def test_cached_instance_unchanged():
    a = FixedOffsetTimezone(120, "two")
    FixedOffsetTimezone(120, "two")
    assert a.tzname(None) == "two"
    assert a.utcoffset(None) == td(hours=2)


def test_equality():
    assert FixedOffsetTimezone(60) == FixedOffsetTimezone(60, "x")
    assert FixedOffsetTimezone(60) == FixedOffsetTimezone(td(hours=1))
    assert FixedOffsetTimezone(0) != FixedOffsetTimezone(60)
    assert not (FixedOffsetTimezone(60) != FixedOffsetTimezone(60))
    assert FixedOffsetTimezone(60) != 1
    assert FixedOffsetTimezone(60).__eq__(1) is NotImplemented


def test_hash_consistent_with_equality():
    assert hash(FixedOffsetTimezone(60)) \
        == hash(FixedOffsetTimezone(60, "x"))
    assert len({FixedOffsetTimezone(60), FixedOffsetTimezone(60, "x")}) == 1


def test_bad_offset():
    with pytest.raises(TypeError):
        FixedOffsetTimezone("x")
    with pytest.raises(TypeError):
        FixedOffsetTimezone([1])
    # a failure does not poison the cache
    with pytest.raises(TypeError):
        FixedOffsetTimezone("x")


@pytest.mark.parametrize("args", [(), (60,), (-90, "n"), (td(seconds=5),)])
def test_pickle(args):
    tzinfo = FixedOffsetTimezone(*args)
    tz2 = pickle.loads(pickle.dumps(tzinfo))
    assert tz2 == tzinfo
    assert tz2.tzname(None) == tzinfo.tzname(None)
    assert repr(tz2) == repr(tzinfo)
    dt = datetime.datetime(2020, 1, 1, 12, tzinfo=tzinfo)
    dt2 = pickle.loads(pickle.dumps(dt))
    assert dt2 == dt
    assert dt2.tzname() == dt.tzname()


def test_subclass_not_mixed_in_cache():
    class MyTz(FixedOffsetTimezone):
        pass

    assert type(MyTz(60)) is MyTz
    assert type(FixedOffsetTimezone(60)) is FixedOffsetTimezone


def test_astimezone():
    dt = datetime.datetime(2020, 1, 1, 12, tzinfo=FixedOffsetTimezone(60))
    utc = dt.astimezone(datetime.timezone.utc)
    assert utc == datetime.datetime(2020, 1, 1, 11,
                                    tzinfo=datetime.timezone.utc)


def test_as_cursor_tzinfo_factory(conn):
    cur = conn.cursor()
    cur.tzinfo_factory = FixedOffsetTimezone
    cur.execute("set timezone to '+02:30'")
    cur.execute("select '2020-01-01 10:00:00-03:30'::timestamptz")
    value = cur.fetchone()[0]
    assert value == datetime.datetime(2020, 1, 1, 13, 30,
                                      tzinfo=datetime.timezone.utc)
    assert isinstance(value.tzinfo, FixedOffsetTimezone)
    # POSIX zone names have the sign reversed: +02:30 is UTC-02:30
    assert value.utcoffset() == td(hours=-2, minutes=-30)


def test_constants():
    assert tz.ZERO == td(0)
    assert tz.STDOFFSET == td(seconds=-time.timezone)
    assert tz.DSTDIFF == tz.DSTOFFSET - tz.STDOFFSET
    assert isinstance(tz.LOCAL, LocalTimezone)


@pytest.mark.parametrize("dt", [
    datetime.datetime(2020, 1, 15, 12),
    datetime.datetime(2020, 7, 15, 12),
])
def test_local_timezone(dt):
    local = tz.LOCAL
    stamp = time.mktime(dt.timetuple())
    expected = td(seconds=(
        datetime.datetime.fromtimestamp(stamp)
        - datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
        .replace(tzinfo=None)).total_seconds())
    assert local.utcoffset(dt) == expected
    isdst = time.localtime(stamp).tm_isdst > 0
    assert local.tzname(dt) == time.tzname[isdst]
    assert local.dst(dt) == (tz.DSTDIFF if isdst else td(0))
    aware = dt.replace(tzinfo=local)
    assert aware.timestamp() == stamp
