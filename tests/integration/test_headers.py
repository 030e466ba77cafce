"""Security headers on every response; htmx locked down; nothing loaded from other hosts."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from app import create_app
from app.config import load_settings
from tests.conftest import ROOT, environ_for


def test_every_page_carries_a_nonce_csp_and_the_usual_headers(app, login):
    client = login("admin")
    for path in ("/login", "/journeys", "/contacts", "/settings/", "/healthz", "/nope"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp), path
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # development: plain http


def test_script_tags_carry_the_nonce_of_their_response(app, client):
    resp = client.get("/login")
    nonce = re.search(r"'nonce-([\w-]+)'", resp.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", resp.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_production_adds_hsts_and_secure_cookies(tmp_path, database_url, redis_url):
    prod = create_app(load_settings(environ_for(tmp_path, database_url, redis_url,
                                                 JOURNEYS_ENV="production",
                                                 TRUSTED_PROXY_COUNT="1")))
    # TLS ends at the reverse proxy, which says so in X-Forwarded-Proto.
    resp = prod.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=31536000" in resp.headers["Strict-Transport-Security"]
    assert "Secure" in resp.headers["Set-Cookie"]
    prod.extensions["db_engine"].dispose()


def test_htmx_is_vendored_and_configured_without_eval(app, client):
    page = client.get("/login").get_data(as_text=True)
    raw = re.search(r"name=\"htmx-config\" content='([^']+)'", page).group(1)
    config = json.loads(html.unescape(raw))  # the browser decodes the attribute's entities
    assert config["selfRequestsOnly"] is True
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert any(rule["code"] == "422" and rule["swap"] for rule in config["responseHandling"])
    src = re.search(r'src="(/static/vendor/htmx-[\d.]+/htmx.min.js)"', page).group(1)
    resp = client.get(src)
    resp.close()
    assert resp.status_code == 200


def test_pages_load_nothing_from_other_hosts():
    for path in list((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path


def test_each_vendored_library_has_its_version_and_license():
    vendor = ROOT / "static" / "vendor"
    readme = (vendor / "README.md").read_text()
    for folder in (p for p in vendor.iterdir() if p.is_dir()):
        assert re.search(r"-\d+\.\d+\.\d+$", folder.name), folder
        assert folder.name in readme
        assert any(f.name.upper().startswith("LICENSE") for f in folder.iterdir()), folder
