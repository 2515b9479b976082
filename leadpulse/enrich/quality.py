"""Data-quality flags of a lead's contact data (S2.2): what a sales team should distrust."""

from __future__ import annotations

from typing import Any

from leadpulse.enrich.contact import EmailCheck, PhoneCheck


def contact_quality(email: EmailCheck, phone: PhoneCheck | None) -> dict[str, Any]:
    """Flags for the lead card and filters; `issues` lists what is wrong in words.

    `phone` is None when no phone number was given at all.
    """
    if email.normalised is None:
        email_state = "missing"
    elif not email.valid:
        email_state = "invalid"
    elif email.disposable:
        email_state = "disposable"
    else:
        email_state = "valid"
    phone_state = "missing" if phone is None else "valid" if phone.valid else "invalid"
    issues: list[str] = []
    if email_state in {"invalid", "disposable"}:
        issues.append(f"email is {email_state}")
    if email.role:
        issues.append("email is a role address, not a person")
    if phone_state == "invalid":
        issues.append("phone number is not valid")
    if email_state == "missing" and phone_state == "missing":
        issues.append("no way to contact: neither email nor phone")
    return {"email": email_state, "phone": phone_state, "role_email": email.role, "issues": issues}
