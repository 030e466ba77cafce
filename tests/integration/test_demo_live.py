"""`journeys demo` as a newcomer meets it: loaded into a fresh SQLite instance by the command
(and by `journeys up --demo`, which `make run` runs), idempotent, and its traffic generator
driving a live app: webhooks stored and processed, confirmations clicked, mail opened and
clicked through the tracking endpoints."""
from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.config import load_settings
from app.mail import outbox
from tests.conftest import run_cli
from tests.integration.test_up import Up, alive, descendants, free_port

pytestmark = pytest.mark.slow

SOURCE = "shopify:Alder & Stone (demo)"


def _env(instance: Path) -> dict[str, str]:
    return {"INSTANCE_PATH": str(instance), "SECRET_KEY": "demo-test-secret", "JOURNEYS_ENV": "development",
            "JOURNEYS_PROGRESS": "0"}


def _counts(instance: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{instance / 'journeys.db'}")
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all()
        counts = {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}
    engine.dispose()
    return counts


def _query(instance: Path, sql: str, **params: object) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(f"sqlite:///{instance / 'journeys.db'}")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance = tmp_path_factory.mktemp("demo") / "instance"
    result = run_cli("demo", env=_env(instance), timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Loaded the demo shop Alder & Stone Outfitters" in result.stdout
    return instance


class Running(Up):
    """`journeys up` on an instance, with only the environment the test gives it."""

    def __init__(self, instance: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "SECRET_KEY", "BASE_URL")}
        env.update(_env(instance))
        super().__init__(instance, *args, env=env)

    def wait_ready(self, timeout: float = 240) -> None:  # loading the demo shop comes first
        super().wait_ready(timeout)

    def stop(self) -> None:
        tree = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=60)
        self.out.close()
        assert code == 0, self.output()
        assert not [pid for pid in tree if alive(pid)], f"orphans after Ctrl-C\n{self.output()}"


def test_journeys_demo_loads_the_shop_into_a_fresh_instance(demo):
    counts = _counts(demo)
    assert counts["contacts"] == 1000 and counts["sources"] == 1 and counts["templates"] == 7
    assert _query(demo, "SELECT count(*) FROM journeys WHERE status = 'active'") == [(4,)]
    assert counts["journey_versions"] == 4 and counts["enrollments"] == 0
    statuses = dict(_query(demo, "SELECT subscription_status, count(*) FROM contacts GROUP BY 1"))
    assert statuses["subscribed"] > 700 and statuses["unsubscribed"] > 50 and statuses["unconfirmed"] > 10
    orders, unprocessed = _query(demo, "SELECT count(*), sum(processed_at IS NULL) FROM events "
                                       "WHERE name = 'order_placed'")[0]
    assert orders > 1000 and unprocessed == 0
    spent = _query(demo, "SELECT sum(orders_count), count(*) FROM contacts WHERE orders_count > 0")[0]
    assert spent[0] == orders and 600 < spent[1] < 850
    zones = {z for (z,) in _query(demo, "SELECT DISTINCT timezone FROM contacts")}
    assert {"Europe/Warsaw", "America/New_York", "America/Sao_Paulo"} <= zones


def test_a_second_run_changes_nothing(demo):
    before = _counts(demo)
    again = run_cli("demo", env=_env(demo), timeout=120)
    assert again.returncode == 0, again.stderr
    assert "loaded already: nothing changed" in again.stdout
    assert _counts(demo) == before


def test_an_instance_with_its_own_data_is_refused_and_left_alone(tmp_path):
    instance = tmp_path / "shop"
    made = run_cli("sources", "create", "shopify", "--name", "Real shop", "--secret", "s3cret", env=_env(instance))
    assert made.returncode == 1 and "journeys db upgrade" in made.stderr  # a fresh folder has no schema yet
    assert run_cli("db", "upgrade", env=_env(instance)).returncode == 0
    assert run_cli("sources", "create", "shopify", "--name", "Real shop", "--secret", "s3cret",
                   env=_env(instance)).returncode == 0
    before = _counts(instance)
    refused = run_cli("demo", env=_env(instance), timeout=120)
    assert refused.returncode == 1 and "holds 1 sources: nothing changed" in refused.stderr
    assert _counts(instance) == before
    reset = run_cli("demo", "--reset", "--yes", env=_env(instance), timeout=120)
    assert reset.returncode == 1 and "never loaded" in reset.stderr and _counts(instance) == before


def test_the_traffic_generator_drives_a_live_app(demo):
    app = Running(demo, "--no-demo")
    try:
        app.wait_ready()
        assert "Demo shop" not in app.output()  # --no-demo: no traffic of its own
        started = time.time()
        before = set(outbox.names(demo / "outbox"))
        run = run_cli("demo", "traffic", "--url", app.url, "--rate", "240", "--duration", "8", "--seed", "7",
                      env=_env(demo), timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
        assert re.search(r"\d+ orders/create", run.stdout) and "customers/create" in run.stdout, run.stdout
        assert "refused" not in run.stdout and "errors" not in run.stdout
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started - 1))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stored = _query(demo, "SELECT name, count(*), sum(processed_at IS NULL), sum(error IS NOT NULL) "
                                  "FROM events WHERE source = :s AND received_at >= :t GROUP BY name",
                            s=SOURCE, t=since)
            if stored and all(pending == 0 for _, _, pending, _ in stored):
                break
            time.sleep(0.5)
        by_name = {name: (n, errors) for name, n, _, errors in stored}
        assert {"customer_created", "checkout_started", "checkout_updated", "order_placed"} <= set(by_name)
        assert all(errors == 0 for _, errors in by_name.values()), by_name
        assert all(pending == 0 for _, _, pending, _ in stored), stored  # every event processed
        outcomes = dict(_query(demo, "SELECT outcome, count(*) FROM shop_deliveries GROUP BY 1"))
        assert set(outcomes) <= {"stored", "known_event", "ignored"} and outcomes["stored"] >= 10
        entered = _query(demo, "SELECT count(*) FROM enrollments")[0][0]
        assert entered > 0  # the journeys took them in
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not set(outbox.names(demo / "outbox")) - before:
            time.sleep(0.5)
        fresh = set(outbox.names(demo / "outbox")) - before
        assert fresh, "no mail reached the outbox"
        subjects = {outbox.read(demo / "outbox", n).summary.subject for n in fresh}
        assert any(s.startswith("Please confirm your subscription") for s in subjects), subjects
        _readers_confirm_open_and_click(demo, app.url)
    finally:
        app.stop()


def _readers_confirm_open_and_click(instance: Path, url: str) -> None:
    """The generator's mail side, hurried: every signup confirms, every marketing email is opened and clicked."""
    from app import create_app
    from app.db import db
    from app.demo import loader
    from app.demo.client import Client
    from app.demo.habits import Odds, Pace
    from app.demo.traffic import Traffic
    from app.services import journeys as journey_service

    settings = load_settings(_env(instance))
    flask_app = create_app(settings)
    with flask_app.app_context():  # a journey that mails every order at once, so there is mail to read
        with db.transaction() as s:
            journey = journey_service.create_journey(s, name="Thank you at once", user_id=None, now=_now(), graph={
                "schema": 1, "settings": {}, "edges": [{"from": "start", "to": "thanks"}, {"from": "thanks", "to": "end"}],
                "nodes": [{"id": "start", "type": "trigger", "config": {"event": "order_placed"}},
                          {"id": "thanks", "type": "send", "config": {"template": "post-purchase"}},
                          {"id": "end", "type": "exit"}]})
            journey_service.publish_journey(s, journey, user=None, now=_now())
        setup = loader.traffic_setup(db.session)
    assert setup is not None
    started = _now()
    odds = Odds(signup=0.3, checkout=0.0, subscribes=1.0, confirms=1.0, opens=1.0, apple_proxy=0.0, clicks=1.0,
                unsubscribes=0.0, orders_after_click=0.0)
    pace = Pace(confirm=(0.2, 0.5), open=(0.2, 0.5), click=(0.1, 0.3), scan_every=0.3)
    generator = Traffic(Client(url), setup.shop, settings.outbox_path, setup.customers, rate=120,
                        rng=random.Random(11), pace=pace, odds=odds, next_order_number=setup.next_order_number,
                        next_customer=setup.next_customer)
    tally = generator.run(threading.Event(), duration=15)
    assert tally["confirmations"] and tally["opens"] and tally["clicks"], tally
    assert not tally["refused"] and not tally["errors"], tally
    since = started.strftime("%Y-%m-%d %H:%M:%S.%f")  # text: the driver adapts no datetime
    with flask_app.app_context():
        hits = dict(db.session.execute(text("SELECT kind, count(*) FROM tracking_hits WHERE at >= :t GROUP BY kind"),
                                       {"t": since}).all())
        confirmed = db.session.execute(text("SELECT count(*) FROM consent_records WHERE source = 'confirmation' "
                                            "AND at >= :t"), {"t": since}).scalar_one()
    flask_app.extensions["db_engine"].dispose()
    assert hits.get("open") and hits.get("click"), hits
    assert confirmed > 0


def _now():  # type: ignore[no-untyped-def]
    from app import clock

    return clock.now()


def test_up_with_demo_loads_an_empty_instance_once_then_runs_its_traffic(tmp_path):
    instance = tmp_path / "instance"
    first = Running(instance, "--demo", "--demo-rate", "120")
    try:
        first.wait_ready()
        out = first.output()
        assert "Loaded the demo shop" in out and "Demo shop: live traffic at 120 shoppers a minute" in out
        assert f"{first.url}/sent-mail" in out
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in descendants(first.proc.pid)
                    if Path(f"/proc/{pid}/cmdline").exists()]
        assert any(b"traffic" in c for c in commands)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not _query(
                instance, "SELECT count(*) FROM shop_deliveries WHERE outcome = 'stored'")[0][0]:
            time.sleep(0.5)
        assert _query(instance, "SELECT count(*) FROM shop_deliveries WHERE outcome = 'stored'")[0][0] > 0
    finally:
        first.stop()
    contacts = _query(instance, "SELECT count(*) FROM contacts")[0][0]
    again = Running(instance, "--demo", "--demo-rate", "0")  # the second `make run`: the data is reused
    try:
        again.wait_ready()
        assert "Loaded the demo shop" not in again.output() and "Demo shop" not in again.output()
    finally:
        again.stop()
    assert _query(instance, "SELECT count(*) FROM contacts")[0][0] >= contacts >= 1000


def test_traffic_refuses_what_it_cannot_do_and_waits_for_an_app_that_is_not_up(demo, tmp_path):
    empty = tmp_path / "empty"
    assert run_cli("db", "upgrade", env=_env(empty)).returncode == 0
    none = run_cli("demo", "traffic", "--duration", "1", env=_env(empty))
    assert none.returncode == 1 and "no enabled demo source" in none.stderr and "journeys demo" in none.stderr
    bad_url = run_cli("demo", "traffic", "--url", "ftp://shop", "--duration", "1", env=_env(demo))
    assert bad_url.returncode == 2 and "--url" in bad_url.stderr and "http(s) URL" in bad_url.stderr
    bad_rate = run_cli("demo", "traffic", "--rate", "0", env=_env(demo))
    assert bad_rate.returncode == 2 and "--rate" in bad_rate.stderr
    mixed = run_cli("demo", "--reset", "traffic", env=_env(demo))
    assert mixed.returncode == 2 and "go with `journeys demo` alone" in mixed.stderr
    before = _counts(demo)
    idle = run_cli("demo", "traffic", "--url", f"http://127.0.0.1:{free_port()}", "--duration", "2", env=_env(demo))
    assert idle.returncode == 0 and "nothing sent" in idle.stdout, idle.stdout + idle.stderr
    assert _counts(demo) == before
