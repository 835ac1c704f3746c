"""connection.info: the ConnectionInfo object."""

import pytest

import psycopg2
import psycopg2.extensions as ext


def test_type(conn):
    assert isinstance(conn.info, ext.ConnectionInfo)
    assert conn.info is not conn.info   # a new object each time


def test_constructor(conn):
    info = ext.ConnectionInfo(conn)
    assert info.dbname == conn.info.dbname
    with pytest.raises(TypeError,
                       match="The argument must be a psycopg2 connection"):
        ext.ConnectionInfo(1)
    with pytest.raises(TypeError):
        ext.ConnectionInfo()


def test_connection_params(conn, dsn):
    params = ext.parse_dsn(dsn)
    info = conn.info
    assert info.dbname == params["dbname"]
    assert info.user == params["user"]
    assert info.host == params["host"]
    assert info.hostaddr == params["host"]
    assert info.port == int(params["port"])
    assert isinstance(info.port, int)
    assert info.password == ""
    assert info.options == ""


def test_password(dsn):
    c = psycopg2.connect(dsn + " password=secret")
    try:
        assert c.info.password == "secret"
        assert "password" not in c.info.dsn_parameters
        assert c.info.used_password is False    # trust authentication
        assert c.info.needs_password is False
    finally:
        c.close()


def test_dsn_parameters(conn, dsn):
    dp = conn.info.dsn_parameters
    for k, v in ext.parse_dsn(dsn).items():
        assert dp[k] == v
    assert dp == conn.get_dsn_parameters()


def test_status(conn):
    info = conn.info
    assert info.status == 0     # CONNECTION_OK
    assert info.transaction_status == ext.TRANSACTION_STATUS_IDLE
    conn.cursor().execute("SELECT 1")
    assert info.transaction_status == ext.TRANSACTION_STATUS_INTRANS


def test_versions_and_pid(conn):
    info = conn.info
    assert info.protocol_version == 3
    assert info.server_version == conn.server_version
    assert info.backend_pid == conn.get_backend_pid()
    assert info.socket == conn.fileno()


def test_error_message(conn):
    assert conn.info.error_message is None
    cur = conn.cursor()
    with pytest.raises(psycopg2.DataError):
        cur.execute("SELECT 1/0")
    assert "division by zero" in conn.info.error_message


def test_parameter_status(conn):
    info = conn.info
    assert info.parameter_status("client_encoding") == "UTF8"
    assert info.parameter_status("DateStyle").startswith("ISO")
    assert info.parameter_status("nosuchparam") is None
    with pytest.raises(TypeError):
        info.parameter_status(b"TimeZone")


def test_ssl(conn):
    info = conn.info
    assert info.ssl_in_use is False
    assert info.ssl_attribute("protocol") is None
    assert info.ssl_attribute("nosuch") is None
    assert isinstance(info.ssl_attribute_names, list)


def test_closed_connection(conn):
    info = conn.info
    conn.close()
    assert info.dbname is None
    assert info.user is None
    assert info.host is None
    assert info.port is None
    assert info.status == 1     # CONNECTION_BAD
    assert info.transaction_status == ext.TRANSACTION_STATUS_UNKNOWN
    assert info.protocol_version == 0
    assert info.server_version == 0
    assert info.backend_pid == 0
    assert info.socket == -1
    assert info.used_password is False
    assert info.ssl_in_use is False
    assert info.parameter_status("TimeZone") is None
    with pytest.raises(psycopg2.InterfaceError):
        info.dsn_parameters
    # a new object on a closed connection is fine too
    assert conn.info.dbname is None


def test_readonly(conn):
    with pytest.raises(AttributeError):
        conn.info.dbname = "x"
