"""DKIM (RFC 6376) signatures on outgoing mail, with dkimpy, and the DNS record that verifies them.

relaxed/relaxed canonicalization, rsa-sha256, over the headers receivers judge a message by,
List-Unsubscribe and List-Unsubscribe-Post included: Gmail honours one-click unsubscribe only
when the signature covers them.
"""
from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, replace
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

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
        _sign_rsa_with_openssl()
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


_keys: dict[int, rsa.RSAPrivateKey] = {}
_patch_lock = threading.Lock()
_HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}


def _openssl_rsa_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's RSASSA-PKCS1-v1_5 signature, computed by OpenSSL (cryptography) instead of Python."""
    key = _keys.get(private_key["modulus"])
    if key is None:
        public = rsa.RSAPublicNumbers(private_key["publicExponent"], private_key["modulus"])
        key = rsa.RSAPrivateNumbers(private_key["prime1"], private_key["prime2"], private_key["privateExponent"],
                                    private_key["exponent1"], private_key["exponent2"], private_key["coefficient"],
                                    public).private_key()
        _keys[private_key["modulus"]] = key
    algorithm = _HASHES[digest.name]()
    return key.sign(digest.digest(), padding.PKCS1v15(), Prehashed(algorithm))


def _sign_rsa_with_openssl() -> None:
    # dkimpy does the RSA arithmetic in pure Python: about 70 ms per 2048-bit signature, which would
    # cap a worker at some fourteen messages a second. Its canonicalization and header handling stay
    # dkimpy's; only the modular exponentiation moves to OpenSSL (about 1 ms). The result is the same
    # PKCS#1 v1.5 signature, byte for byte (test_dkim_and_streams.py verifies it with dkimpy).
    if dkim.RSASSA_PKCS1_v1_5_sign is _openssl_rsa_sign:
        return
    with _patch_lock:
        dkim.RSASSA_PKCS1_v1_5_sign = _openssl_rsa_sign  # type: ignore[assignment]

