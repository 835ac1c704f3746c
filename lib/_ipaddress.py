"""Conversion between the PostgreSQL network types and the ipaddress module.

After `register_ipaddress()`:

- inet values are returned as `~ipaddress.IPv4Interface` or
  `~ipaddress.IPv6Interface` (an address with its netmask);
- cidr values are returned as `~ipaddress.IPv4Network` or
  `~ipaddress.IPv6Network`;
- arrays of both are returned as lists;
- interface and network objects can be passed as query parameters.
"""

import ipaddress
from typing import Any, List, Optional, Union

from psycopg2.extensions import (
    QuotedString, new_array_type, new_type, register_adapter, register_type)

__all__ = ["register_ipaddress"]

INET_OID, INETARRAY_OID = 869, 1041
CIDR_OID, CIDRARRAY_OID = 650, 651

# typecasters, made the first time they are needed
_casters: Optional[List[Any]] = None


def register_ipaddress(conn_or_curs: Any = None) -> None:
    """Convert inet and cidr values to and from `ipaddress` objects.

    :param conn_or_curs: where the typecasters (database -> Python) apply: a
        connection, a cursor, or `!None` (the default) for every connection.
        The adapters (Python -> database) always apply everywhere.
    """
    global _casters
    if _casters is None:
        _casters = _make_casters()

    for caster in _casters:
        register_type(caster, conn_or_curs)

    for cls in (ipaddress.IPv4Interface, ipaddress.IPv6Interface,
                ipaddress.IPv4Network, ipaddress.IPv6Network):
        register_adapter(cls, adapt_ipaddress)


def _make_casters() -> List[Any]:
    inet = new_type((INET_OID,), "INET", cast_interface)
    ainet = new_array_type((INETARRAY_OID,), "INET[]", inet)
    cidr = new_type((CIDR_OID,), "CIDR", cast_network)
    acidr = new_array_type((CIDRARRAY_OID,), "CIDR[]", cidr)
    return [inet, ainet, cidr, acidr]


def cast_interface(
        s: Optional[str], cur: Any = None
) -> Optional[Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]]:
    """Typecaster of inet values."""
    if s is None:
        return None
    return ipaddress.ip_interface(s)


def cast_network(
        s: Optional[str], cur: Any = None
) -> Optional[Union[ipaddress.IPv4Network, ipaddress.IPv6Network]]:
    """Typecaster of cidr values."""
    if s is None:
        return None
    return ipaddress.ip_network(s)


def adapt_ipaddress(obj: Any) -> QuotedString:
    """Adapter of ipaddress interfaces and networks: a quoted string, which
    PostgreSQL casts to inet or cidr as the context requires."""
    return QuotedString(str(obj))
