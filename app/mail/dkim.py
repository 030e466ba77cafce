"""DKIM (RFC 6376) signatures on outgoing mail, with dkimpy, and the DNS record that verifies them.

relaxed/relaxed canonicalization, rsa-sha256, over the headers receivers judge a message by,
List-Unsubscribe and List-Unsubscribe-Post included: Gmail honours one-click unsubscribe only
when the signature covers them.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, replace

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.mail.message import OutgoingMessage

#: Headers signed when the message has them (a header signed but absent may not be added later).
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
                  b"content-type", b"list-unsubscribe", b"list-unsubscribe-post")
#: RSA key size generated in Settings (1024 is no longer accepted by the large providers).
KEY_BITS = 2048


class DkimError(ValueError):
    """The key cannot sign: not a PEM RSA private key, or dkimpy refused it."""


@dataclass(frozen=True)
class Signer:
    selector: str
    domain: str
    private_key: bytes  # PEM

    def sign(self, message: OutgoingMessage) -> OutgoingMessage:
        """`message` with a DKIM-Signature header in front of its others."""
        head = message.data.split(b"\r\n\r\n", 1)[0].lower()
        present = [h for h in SIGNED_HEADERS if head.startswith(h + b":") or b"\r\n" + h + b":" in head]
        try:
            header = dkim.sign(message.data, self.selector.encode(), self.domain.encode(), self.private_key,
                               canonicalize=(b"relaxed", b"relaxed"), include_headers=present,
                               linesep=b"\r\n")
        except dkim.DKIMException as exc:
            raise DkimError(f"DKIM signing failed: {exc}") from None
        return replace(message, data=header + message.data, _parsed=[])


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DkimError(f"not a PEM private key without a passphrase: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimError("the DKIM key must be an RSA key")
    return key


def generate_private_key(bits: int = KEY_BITS) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_base64(private_pem: bytes) -> str:
    """The `p=` of the DNS record: the public key's SubjectPublicKeyInfo, base64."""
    public = load_private_key(private_pem).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def dns_record(private_pem: bytes) -> str:
    """The TXT record to publish at <selector>._domainkey.<domain>."""
    return f"v=DKIM1; k=rsa; p={public_key_base64(private_pem)}"
