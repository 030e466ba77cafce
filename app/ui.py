"""What every page template can use: navigation, the htmx config, the version."""
from __future__ import annotations

import json
from typing import Any

from flask import Flask

NAVIGATION = (
    ("journeys.index", "Journeys", "viewer"),
    ("templates_studio.index", "Templates", "viewer"),
    ("contacts.index", "Contacts", "viewer"),
    ("analytics.index", "Analytics", "viewer"),
    ("settings.index", "Settings", "admin"),
)

HTMX_CONFIG = {
    "selfRequestsOnly": True,
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,  # its injected <style> would break our CSP
    "historyCacheSize": 0,  # pages may hold personal data; keep them out of localStorage
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},  # re-rendered forms carry their errors
        {"code": "[45]..", "swap": False, "error": True},
    ],
}

HTMX_VERSION = "2.0.11"
PICO_VERSION = "2.1.1"


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"navigation": NAVIGATION, "htmx_config": json.dumps(HTMX_CONFIG),
                "htmx_version": HTMX_VERSION, "pico_version": PICO_VERSION}
