"""Identity: which lead a visitor or an incoming record belongs to, and how traits combine.

Pure functions; the pipeline reads and writes storage around them.
"""

from leadpulse.identity.resolve import Resolution, identity_keys, resolve
from leadpulse.identity.traits import CONTACT_FIELDS, merge_traits, split_contact_fields

__all__ = [
    "CONTACT_FIELDS",
    "Resolution",
    "identity_keys",
    "merge_traits",
    "resolve",
    "split_contact_fields",
]
