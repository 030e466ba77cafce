"""Standard Webhooks signatures: the specification's published test vector, and every refusal."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from app.services.signatures import SignatureRefused, sign, verify

# The test vector published with the Standard Webhooks specification (and its reference libraries).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
AT = datetime.fromtimestamp(STAMP, timezone.utc)


def headers(**changes: str) -> dict[str, str]:
    out = {"webhook-id": MSG_ID, "webhook-timestamp": str(STAMP), "webhook-signature": SIGNATURE}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def test_signing_reproduces_the_published_vector() -> None:
    assert sign(SECRET, MSG_ID, STAMP, BODY) == SIGNATURE


def test_the_published_vector_verifies_and_names_its_message() -> None:
    assert verify(SECRET, headers(), BODY, AT) == MSG_ID


def test_a_secret_pasted_without_its_prefix_works_too() -> None:
    assert verify(SECRET.removeprefix("whsec_"), headers(), BODY, AT) == MSG_ID


def test_any_one_of_several_signatures_is_enough_for_rotation() -> None:
    other = sign("whsec_" + "b3RoZXItc2VjcmV0LW9mLWEtcm90YXRpb24=", MSG_ID, STAMP, BODY)
    rotating = f"{other} v1a,c29tZXRoaW5n v1,not-base64!! {SIGNATURE}"
    assert verify(SECRET, headers(**{"webhook-signature": rotating}), BODY, AT) == MSG_ID


@pytest.mark.parametrize("body", [b'{"test": 2432232315}', b'{"test": 2432232314} ', b'{"test":2432232314}'])
def test_a_changed_body_is_refused(body: bytes) -> None:
    with pytest.raises(SignatureRefused, match="No webhook-signature matches"):
        verify(SECRET, headers(), body, AT)


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureRefused, match="No webhook-signature matches"):
        verify("whsec_" + "d3Jvbmctc2VjcmV0", headers(), BODY, AT)


@pytest.mark.parametrize("field", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_refused_by_name(field: str) -> None:
    with pytest.raises(SignatureRefused) as caught:
        verify(SECRET, headers(**{field: None}), BODY, AT)  # type: ignore[arg-type]
    assert field in caught.value.detail
    assert [p.header for p in caught.value.errors] == [field]


@pytest.mark.parametrize("offset, accepted", [(-300, True), (300, True), (-301, False), (301, False),
                                              (-86400, False)])
def test_the_timestamp_must_be_within_five_minutes(offset: int, accepted: bool) -> None:
    now = AT + timedelta(seconds=-offset)  # the message was signed `offset` seconds from now
    if accepted:
        assert verify(SECRET, headers(), BODY, now) == MSG_ID
    else:
        with pytest.raises(SignatureRefused, match="away from our clock"):
            verify(SECRET, headers(), BODY, now)


@pytest.mark.parametrize("stamp", ["hello", "1614265330.5", "-1614265330", ""])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(stamp: str) -> None:
    with pytest.raises(SignatureRefused):
        verify(SECRET, headers(**{"webhook-timestamp": stamp}), BODY, AT)


def test_the_signature_covers_the_timestamp_exactly_as_sent() -> None:
    padded = "0" + str(STAMP)  # a sender that zero-pads signed those bytes
    mac = hmac.new(base64.b64decode(SECRET.removeprefix("whsec_")), f"{MSG_ID}.{padded}.".encode() + BODY,
                   hashlib.sha256).digest()
    own = "v1," + base64.b64encode(mac).decode()
    assert verify(SECRET, headers(**{"webhook-timestamp": padded, "webhook-signature": own}), BODY, AT) == MSG_ID
    with pytest.raises(SignatureRefused):  # the vector's signature covers the unpadded stamp only
        verify(SECRET, headers(**{"webhook-timestamp": padded}), BODY, AT)
