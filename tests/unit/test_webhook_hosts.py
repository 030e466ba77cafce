"""The pure parts of webhook delivery: allow-list patterns and matching, headers, what an answer means."""
from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.services.webhook_hosts import host_matches, normalize_pattern, refusal, url_host
from app.services.webhook_http import USER_AGENT, classify, request_headers


@pytest.mark.parametrize("given, stored", [
    ("crm.example.com", "crm.example.com"),
    ("  CRM.Example.COM. ", "crm.example.com"),
    ("*.Example.com", "*.example.com"),
    ("127.0.0.1", "127.0.0.1"),
    ("[::1]", "::1"),
    ("2001:DB8:0:0::1", "2001:db8::1"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("localhost", "localhost"),
])
def test_patterns_are_stored_normalised(given: str, stored: str) -> None:
    assert normalize_pattern(given) == stored


@pytest.mark.parametrize("given, says", [
    ("", "give a host name"),
    ("*", "defeat the allow-list"),
    ("*.com", "would allow every host under .com"),
    ("*.10.0.0.1", "an IP address cannot have subdomains"),
    ("https://crm.example.com/hook", "`journeys webhooks allow crm.example.com`"),
    ("crm.example.com/hook", "is a URL, not a host name"),
    ("crm.*.example.com", "is not a valid host name"),
    ("-crm.example.com", "is not a valid host name"),
    ("crm..example.com", "is not a valid host name"),
    ("crm example.com", "is not a valid host name"),
])
def test_a_bad_pattern_is_refused_with_a_clear_reason(given: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_pattern(given)
    assert says in caught.value.detail and caught.value.field == "host"


@pytest.mark.parametrize("host, pattern, allowed", [
    ("crm.example.com", "crm.example.com", True),
    ("crm.example.com", "example.com", False),            # exact names do not cover subdomains
    ("crm.example.com", "*.example.com", True),
    ("a.b.example.com", "*.example.com", True),           # any depth
    ("example.com", "*.example.com", False),              # subdomains only
    ("badexample.com", "*.example.com", False),
    ("example.com.evil.net", "*.example.com", False),
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.2", "127.0.0.1", False),
])
def test_hosts_match_exact_names_or_subdomains_of_a_wildcard(host: str, pattern: str, allowed: bool) -> None:
    assert host_matches(host, pattern) is allowed


@pytest.mark.parametrize("url, host", [
    ("https://CRM.Example.com:8443/hook?x=1", "crm.example.com"),
    ("http://crm.example.com./hook", "crm.example.com"),
    ("http://[::1]:8080/", "::1"),
    ("http://user:pw@127.0.0.1/", "127.0.0.1"),
    ("http://bücher.example/", "xn--bcher-kva.example"),
    ("http:///nohost", None),
    ("http://[::1/", None),
])
def test_the_host_of_a_url_is_read_as_patterns_are_stored(url: str, host: str | None) -> None:
    assert url_host(url) == host


def test_refusal_checks_the_scheme_then_the_allow_list() -> None:
    allowed = ["*.example.com", "127.0.0.1"]
    assert refusal("https://crm.example.com/hook", allowed) is None
    assert refusal("http://127.0.0.1:9000/hook", allowed) is None  # any port
    assert refusal("HTTPS://API.EXAMPLE.COM/x", allowed) is None
    assert "only http and https" in refusal("ftp://crm.example.com/f", allowed)  # type: ignore[operator]
    assert "only http and https" in refusal("file:///etc/passwd", allowed)  # type: ignore[operator]
    assert "has no valid host" in refusal("http:///x", allowed)  # type: ignore[operator]
    said = refusal("https://example.com/hook", allowed)
    assert said == ("the host example.com is not on the webhook allow-list: no request was made; "
                    "an admin can add it with `journeys webhooks allow example.com`")
    assert refusal("https://crm.example.com/hook", []) is not None  # an empty list allows nothing


def test_headers_carry_the_key_the_agent_and_a_content_type_by_the_body() -> None:
    json_body = request_headers({"X-Token": "t"}, '{"a": 1}', "12:crm:1")
    assert json_body == {"User-Agent": USER_AGENT, "Content-Type": "application/json", "X-Token": "t",
                         "Idempotency-Key": "12:crm:1", "Webhook-Id": "12:crm:1"}
    assert USER_AGENT.startswith("Journeys/")
    assert request_headers({}, "plain words", "k")["Content-Type"] == "text/plain; charset=utf-8"
    assert "Content-Type" not in request_headers({}, None, "k")
    replaced = request_headers({"content-type": "application/x-www-form-urlencoded"}, "a=1", "k")
    assert replaced["content-type"] == "application/x-www-form-urlencoded" and "Content-Type" not in replaced


@pytest.mark.parametrize("name", ["Host", "content-length", "Idempotency-Key", "Webhook-Id", "Transfer-Encoding"])
def test_a_node_cannot_set_the_headers_journeys_owns(name: str) -> None:
    with pytest.raises(ValueError, match=f"header '{name}' is set by Journeys"):
        request_headers({name: "x"}, None, "k")


def test_a_header_value_http_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="only Latin-1"):
        request_headers({"X-Name": "Łukasz"}, None, "k")


@pytest.mark.parametrize("status, kind", [(200, "done"), (204, "done"), (408, "retry"), (429, "retry"),
                                          (500, "retry"), (503, "retry"), (301, "failed"), (400, "failed"),
                                          (404, "failed"), (410, "failed"), (100, "failed")])
def test_what_an_answer_means(status: int, kind: str) -> None:
    assert classify(status, "Reason").kind == kind


def test_retry_after_in_seconds_is_kept_and_a_redirect_names_its_target() -> None:
    assert classify(429, "Too Many Requests", retry_after="120").retry_after == 120
    assert classify(503, "Unavailable", retry_after="Wed, 21 Oct 2026 07:28:00 GMT").retry_after is None
    moved = classify(301, "Moved Permanently", location="https://new.example.com/hook")
    assert moved.detail == ("HTTP 301 Moved Permanently: redirects are not followed to "
                            "https://new.example.com/hook; point the webhook node at the final URL")
