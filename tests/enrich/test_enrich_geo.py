"""GeoLookup over real public addresses, private ones and garbage; truncate_ip; the optional
region database (built here with mmdb-writer, read with maxminddb)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpulse.enrich import GeoInfo, GeoLookup, truncate_ip

# Anycast resolvers and the home networks of large companies: their country is stable.
PUBLIC = [
    ("8.8.8.8", "US"),  # Google Public DNS
    ("2001:4860:4860::8888", "US"),  # Google Public DNS over IPv6
    ("17.253.144.10", "US"),  # Apple
    ("13.107.42.14", "US"),  # Microsoft
    ("77.88.55.242", "RU"),  # Yandex
    ("87.250.250.242", "RU"),  # ya.ru
    ("2a02:6b8::2:242", "RU"),  # Yandex over IPv6
    ("212.58.244.22", "GB"),  # BBC
    ("193.0.14.129", "NL"),  # k.root-servers.net, RIPE NCC
    ("202.12.27.33", "JP"),  # m.root-servers.net, WIDE
    ("::ffff:8.8.8.8", "US"),  # IPv4-mapped IPv6 is the IPv4 address
    (" 8.8.4.4 ", "US"),  # header values come with spaces
]

NOWHERE = [
    None,
    "",
    "garbage",
    "999.1.1.1",
    "8.8.8.8:53",
    "127.0.0.1",
    "::1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.1.1",  # link-local
    "fe80::1",
    "fd00::1",  # unique local
    "2001:db8::1",  # documentation
    "203.0.113.7",  # documentation
    "224.0.0.1",  # multicast
    "0.0.0.0",
    "255.255.255.255",
]


@pytest.mark.parametrize(("ip", "country"), PUBLIC)
def test_a_public_address_has_its_country(ip: str, country: str) -> None:
    assert GeoLookup().lookup(ip) == GeoInfo(country, None, None)


@pytest.mark.parametrize("ip", NOWHERE)
def test_private_loopback_reserved_and_garbage_are_nowhere(ip: str | None) -> None:
    assert GeoLookup().lookup(ip) == GeoInfo(None, None, None)


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("8.8.8.8", "8.8.8.0"),
        ("10.1.2.0", "10.1.2.0"),
        (" 77.88.55.242\n", "77.88.55.0"),
        ("2001:db8:1:2::5", "2001:db8:1::"),
        ("2a02:6b8::2:242", "2a02:6b8::"),
        ("2001:4860:4860::8888", "2001:4860:4860::"),
        ("::ffff:8.8.8.8", "8.8.8.0"),
        ("fe80::1%eth0", "fe80::"),
        ("garbage", None),
        ("1.2.3", None),
        ("", None),
        (None, None),
    ],
)
def test_truncate_ip_keeps_only_the_network(ip: str | None, truncated: str | None) -> None:
    assert truncate_ip(ip) == truncated


@given(st.ip_addresses(v=4).filter(lambda a: int(a) & 0xFF != 0))
def test_truncate_ip_never_returns_an_ipv4_address_unchanged(
    address: ipaddress.IPv4Address,
) -> None:
    truncated = truncate_ip(str(address))
    assert truncated is not None
    assert truncated != str(address)
    assert truncated.endswith(".0")


@given(st.ip_addresses(v=6))
def test_truncate_ip_keeps_48_bits_of_an_ipv6_address(address: ipaddress.IPv6Address) -> None:
    truncated = truncate_ip(str(address))
    assert truncated is not None
    if address.ipv4_mapped is None:
        assert int(ipaddress.ip_address(truncated)) == int(address) >> 80 << 80


@given(st.text(max_size=60))
def test_lookup_and_truncate_never_raise(text: str) -> None:
    assert isinstance(GeoLookup().lookup(text), GeoInfo)
    truncate_ip(text)


def test_without_maxminddb_a_region_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "maxminddb", None)  # makes `import maxminddb` fail
    with pytest.raises(ValueError, match=r"needs the 'maxminddb' package: pip install maxminddb"):
        GeoLookup(str(tmp_path / "city.mmdb"))


def test_a_missing_or_unreadable_region_database_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("maxminddb")
    with pytest.raises(ValueError, match="region database not found"):
        GeoLookup(str(tmp_path / "missing.mmdb"))
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"this is not a MaxMind database")
    with pytest.raises(ValueError, match=r"bad\.mmdb is not a readable \.mmdb file"):
        GeoLookup(str(bad))


@pytest.fixture
def city_db(tmp_path: Path) -> str:
    """A tiny database in the GeoLite2-City / DB-IP City layout."""
    pytest.importorskip("maxminddb")
    mmdb_writer = pytest.importorskip("mmdb_writer")
    netaddr = pytest.importorskip("netaddr")
    writer = mmdb_writer.MMDBWriter(
        ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True
    )
    writer.insert_network(
        netaddr.IPSet(["8.8.8.0/24"]),
        {
            "country": {"iso_code": "US", "names": {"en": "United States"}},
            "subdivisions": [
                {"iso_code": "CA", "names": {"en": "California", "de": "Kalifornien"}}
            ],
            "city": {"names": {"en": "Mountain View"}},
        },
    )
    writer.insert_network(
        netaddr.IPSet(["77.88.55.0/24"]),
        {"country": {"iso_code": "RU"}, "city": {"names": {"ru": "Москва"}}},
    )
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def test_a_region_database_adds_region_and_city(city_db: str) -> None:
    geo = GeoLookup(city_db)
    assert geo.lookup("8.8.8.8") == GeoInfo("US", "California", "Mountain View")
    # No English name: any name is better than none.
    assert geo.lookup("77.88.55.242") == GeoInfo("RU", None, "Москва")
    # Not in the database: the country still comes from iptocc.
    assert geo.lookup("2a02:6b8::2:242") == GeoInfo("RU", None, None)
    assert geo.lookup("192.168.0.1") == GeoInfo(None, None, None)
