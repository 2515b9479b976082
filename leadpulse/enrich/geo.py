"""Country (and optionally region and city) of an IP address, and IP truncation for storage.

The country comes from iptocc, which ships its own data, so nothing is downloaded at run time.
Region and city need a MaxMind-format city database (DB-IP Lite City or GeoLite2-City) that
the operator supplies, read with the optional `maxminddb` package.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import iptocc

_CACHE_SIZE: Final = 65_536
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class GeoInfo:
    """Where an IP address is. All None when unknown (private, invalid or not in the data)."""

    country: str | None
    region: str | None
    city: str | None


_NOWHERE: Final = GeoInfo(None, None, None)


class GeoLookup:
    """Looks IP addresses up; one per process, since it holds the open region database."""

    def __init__(self, region_db: str | None = None) -> None:
        self._reader: Any = _open_region_db(region_db) if region_db else None
        self._cached: Callable[[str], GeoInfo] = lru_cache(maxsize=_CACHE_SIZE)(self._lookup)

    def lookup(self, ip: str | None) -> GeoInfo:
        """The place of `ip`; all None for private, loopback, reserved or unreadable input."""
        address = _public_address(ip)
        if address is None:
            return _NOWHERE
        return self._cached(address.compressed)

    def _lookup(self, ip: str) -> GeoInfo:
        country = iptocc.country_code(ip)
        if self._reader is None:
            return GeoInfo(country, None, None)
        try:
            record = self._reader.get(ip)
        except ValueError:  # an IPv6 address in an IPv4-only database, or a corrupt file
            record = None
        if not isinstance(record, Mapping):
            return GeoInfo(country, None, None)
        # A city database is more specific than iptocc's country data; where they disagree,
        # its country is kept so that region and city never sit in another country.
        db_country = _text(record.get("country"), "iso_code")
        region = _subdivision(record.get("subdivisions"))
        city = _name(record.get("city"))
        return GeoInfo(db_country or country, region, city)


def truncate_ip(ip: str | None) -> str | None:
    """The network of `ip` (IPv4 /24, IPv6 /48) so that a raw address is never stored.

    "203.0.113.77" → "203.0.113.0"; "2001:db8:1:2::5" → "2001:db8:1::"; invalid → None.
    An IPv4-mapped IPv6 address is truncated as the IPv4 address it carries.
    """
    address = _parse(ip)
    if address is None:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _parse(ip: str | None) -> _IPAddress | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(address.compressed.split("%", 1)[0])
    return address


def _public_address(ip: str | None) -> _IPAddress | None:
    address = _parse(ip)
    if address is None or not address.is_global or address.is_multicast:
        return None
    return address


def _open_region_db(path: str) -> Any:
    try:
        import maxminddb
    except ImportError:
        raise ValueError(
            "reading a region database needs the 'maxminddb' package: pip install maxminddb"
        ) from None
    try:
        return maxminddb.open_database(path)
    except FileNotFoundError:
        raise ValueError(f"region database not found: {path}") from None
    except (OSError, maxminddb.InvalidDatabaseError) as exc:
        raise ValueError(f"region database {path} is not a readable .mmdb file: {exc}") from None


def _name(entry: object) -> str | None:
    """The English name of a GeoIP2-style entry ({"names": {"en": ...}}), else any name."""
    if not isinstance(entry, Mapping):
        return None
    names = entry.get("names")
    if not isinstance(names, Mapping) or not names:
        return None
    name = names.get("en")
    if not isinstance(name, str):
        name = next((n for n in names.values() if isinstance(n, str)), None)
    return name or None


def _subdivision(entries: object) -> str | None:
    if not isinstance(entries, list) or not entries:
        return None
    return _name(entries[0])


def _text(entry: object, key: str) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    value = entry.get(key)
    return value if isinstance(value, str) and value else None
