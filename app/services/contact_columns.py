"""What a contacts CSV's columns can mean: the headers recognised without --map, and how each
field's text becomes a value (or a ValueError whose message tells the user why not)."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from journeys.addresses import parse_address
from journeys.timing import is_valid_zone, parse_timestamp

#: Fields of a contact itself; any other target is a custom attribute.
BUILT_INS = ("email", "external_id", "timezone", "locale", "tags", "consent")
#: Headers recognised without --map, compared by `squash` (lower-cased, letters and digits only).
ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "emailadresse", "adresemail", "courriel", "correo"),
    "external_id": ("externalid", "customerid", "id", "kundennummer"),
    "timezone": ("timezone", "tz", "zeitzone", "strefaczasowa"),
    "locale": ("locale", "language", "lang", "sprache", "jezyk", "język"),
    "tags": ("tags", "tag", "labels"),
    "consent": ("consent", "marketingconsent", "acceptsmarketing", "acceptsemailmarketing", "emailmarketing",
                "optin"),
    "first_name": ("firstname", "givenname", "vorname", "imie", "imię", "prenom", "prénom", "nombre"),
    "last_name": ("lastname", "surname", "familyname", "nachname", "nazwisko", "nom", "apellido"),
    "phone": ("phone", "phonenumber", "telephone", "telefon", "tel", "mobile"),
    "country": ("country", "countrycode", "land", "kraj", "pays", "pais"),
    "city": ("city", "town", "stadt", "ort", "miasto", "ville"),
}
#: A consent column's words (a shop export's "Accepts Marketing: yes"); `none` changes nothing.
CONSENT_WORDS = {
    **dict.fromkeys(("subscribed", "yes", "y", "true", "1", "opted_in", "optin", "opt-in"), "subscribed"),
    **dict.fromkeys(("unsubscribed", "no", "n", "false", "0", "opted_out", "optout", "opt-out"), "unsubscribed"),
    **dict.fromkeys(("none", "never_subscribed"), "none"),
}
#: Types an attribute column may be given with --types (default: text, kept as written).
TYPES = ("text", "number", "boolean", "date")
BOOLEANS = {**dict.fromkeys(("true", "yes", "y", "1"), True), **dict.fromkeys(("false", "no", "n", "0"), False)}
TAG_SPLIT = re.compile(r"[,;|]")
LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def squash(header: str) -> str:
    return "".join(c for c in header.lower() if c.isalnum())


def recognise(header: str) -> str | None:
    """The target an obvious header stands for (`E-Mail` → email, `Vorname` → first_name)."""
    key = squash(header)
    return next((target for target, names in ALIASES.items() if key in names), None)


def attribute_name(header: str) -> str:
    """A header as an attribute name templates and rules can use: `Customer Since` → customer_since."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def email(value: str) -> str:
    return parse_address(value)  # AddressError (a ValueError) says why not


def external_id(value: str) -> str:
    if len(value) > 200:
        raise ValueError("is longer than 200 characters")
    return value


def timezone(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError(f"{value!r} is not a known time zone (IANA names such as Europe/Warsaw)")
    return value


def locale(value: str) -> str:
    if not LOCALE.match(value) or len(value) > 35:
        raise ValueError(f"{value!r} is not a language tag such as pl-PL or en")
    return value.replace("_", "-")


def tags(value: str) -> list[str]:
    found = [t.strip() for t in TAG_SPLIT.split(value) if t.strip()]
    long = [t for t in found if len(t) > 100]
    if long:
        raise ValueError(f"tag {long[0][:30]!r}… is longer than 100 characters")
    return found


def consent(value: str) -> str:
    word = CONSENT_WORDS.get(value.lower())
    if word is None:
        raise ValueError(f"{value!r} is not a consent: use subscribed, unsubscribed or none (or yes/no)")
    return word


PARSERS: dict[str, Callable[[str], Any]] = {
    "email": email, "external_id": external_id, "timezone": timezone, "locale": locale, "tags": tags,
    "consent": consent,
}


def convert(value: str, kind: str) -> Any:
    """An attribute's text as its --types type."""
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        if value.lower() not in BOOLEANS:
            raise ValueError(f"{value!r} is not yes/no, true/false or 1/0")
        return BOOLEANS[value.lower()]
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            moment = parse_timestamp(value)
            if moment is None:
                raise ValueError(f"{value!r} is not a date (2026-12-01) or an ISO 8601 timestamp "
                                 "with a time zone") from None
            return moment.isoformat()
    return value


def _number(value: str) -> int | float:
    digits = value.replace(" ", "").replace("\u00a0", "")
    if digits.count(",") == 1 and "." not in digits:
        digits = digits.replace(",", ".")  # a decimal comma, as European spreadsheets write them
    try:
        number = Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return int(number) if number == number.to_integral_value() else float(number)
