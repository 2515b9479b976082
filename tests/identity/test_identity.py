"""Which lead wins, and how traits combine."""

from __future__ import annotations

from leadpulse.core.types import Contact
from leadpulse.identity import identity_keys, merge_traits, resolve, split_contact_fields


def test_keys_come_in_priority_order() -> None:
    c = Contact(email="a@b.co", phone="+48600123456", external_id="crm-1", quality={})
    assert identity_keys(c) == [
        ("email", "a@b.co"),
        ("external_id", "crm-1"),
        ("phone", "+48600123456"),
    ]
    assert identity_keys(Contact(None, None, None, {})) == []


def test_email_owner_wins_and_the_others_merge_into_it() -> None:
    keys = [("email", "a@b.co"), ("external_id", "x"), ("phone", "+1")]
    owners = {("phone", "+1"): 7, ("email", "a@b.co"): 3}
    r = resolve(keys, owners, visitor_lead=9)
    assert r.lead_id == 3
    assert r.merge == (7, 9)


def test_nothing_known_means_create_and_the_visitors_lead_is_kept() -> None:
    assert resolve([("email", "n@b.co")], {}, None).lead_id is None
    r = resolve([("email", "n@b.co")], {}, visitor_lead=5)
    assert (r.lead_id, r.merge) == (5, ())


def test_sent_values_win_empties_never_erase_and_objects_merge() -> None:
    old = {"name": "Ann", "company": {"name": "Acme", "size": 10}, "city": "Kraków"}
    new = {"name": "Anna", "company": {"revenue": 400000}, "city": "", "phone": None}
    assert merge_traits(old, new) == {
        "name": "Anna",
        "company": {"name": "Acme", "size": 10, "revenue": 400000},
        "city": "Kraków",
    }


def test_contact_fields_are_read_from_traits() -> None:
    fields = split_contact_fields(
        {"user_id": 42, "first_name": "Jan", "last_name": "Kowalski", "company": {"name": "Okna"}}
    )
    assert fields["external_id"] == "42"
    assert fields["name"] == "Jan Kowalski"
    assert fields["company"] == "Okna"
    assert fields["email"] is None
