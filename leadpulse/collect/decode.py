"""Turn a request body into a validated batch, or an error naming the problem and the field."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
import orjson

from leadpulse.collect.schema import REQUIRED_MEASURE, Batch, Event, Identify
from leadpulse.core.errors import BadRequest, InvalidInput, PayloadTooLarge

T = TypeVar("T", Batch, Identify)

_batch_decoder = msgspec.json.Decoder(Batch)
_identify_decoder = msgspec.json.Decoder(Identify)
_NUL = b"\\u0000"
_NUL_MESSAGE = "text may not contain NUL characters (\\u0000); the databases cannot store them"
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    if _NUL in body or b"\x00" in body:
        raise InvalidInput(_NUL_MESSAGE)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _PATH.search(text)
        field = match.group("path").lstrip(".") if match else None
        message = _PATH.sub("", text)
        raise InvalidInput(f"{message} at {field}" if field else message, field=field) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="malformed_json") from None
    except RecursionError:
        raise InvalidInput("the request body is nested too deeply") from None


def decode_batch(body: bytes, *, max_events: int, max_properties_bytes: int) -> Batch:
    """Decode a collect body and check the limits and per-type rules."""
    batch = _decode(_batch_decoder, body)
    if not batch.events:
        raise InvalidInput("a batch needs at least one event", field="events")
    if len(batch.events) > max_events:
        raise PayloadTooLarge(
            f"{len(batch.events)} events in one batch; the limit is {max_events}", field="events"
        )
    for i, event in enumerate(batch.events):
        _check_event(batch, event, i, max_properties_bytes)
    return batch


def _check_event(batch: Batch, event: Event, i: int, max_properties_bytes: int) -> None:
    if event.anonymous_id is None and batch.anonymous_id is None:
        raise InvalidInput(
            "every event needs an anonymous_id (on the event or on the batch)",
            field=f"events[{i}].anonymous_id",
        )
    measure = REQUIRED_MEASURE.get(event.type)
    if measure is not None and getattr(event, measure) is None:
        raise InvalidInput(f"a {event.type} event needs {measure}", field=f"events[{i}].{measure}")
    field = f"events[{i}].properties"
    if event.properties and json_size(event.properties, field) > max_properties_bytes:
        raise PayloadTooLarge(
            f"properties of event {i} exceed {max_properties_bytes} bytes", field=field
        )


def decode_identify(body: bytes, *, max_properties_bytes: int) -> Identify:
    ident = _decode(_identify_decoder, body)
    if json_size(ident.traits, "traits") > max_properties_bytes:
        raise PayloadTooLarge(f"traits exceed {max_properties_bytes} bytes", field="traits")
    return ident


def json_size(value: object, field: str) -> int:
    """Size of `value` as stored; refuses what storage cannot hold (integers beyond 64 bits)."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise InvalidInput(f"{exc} at {field}", field=field) from None
    if _NUL in encoded:
        raise InvalidInput(f"{_NUL_MESSAGE} at {field}", field=field)
    return len(encoded)
