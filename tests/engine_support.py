"""Support for engine tests: a real SMTP server in the process, and a way to run the engine's work."""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from app import clock
from app.models import Journey, JourneyStatus, Template, TemplateVersion
from app.services import versions

MJML_BODY = ("<mjml><mj-body><mj-section><mj-column>"
             "<mj-text>Hi {{{{ contact.first_name|default('there') }}}},</mj-text>{body}"
             "<mj-text><a href=\"{{{{ unsubscribe_url }}}}\">Unsubscribe</a></mj-text>"
             "</mj-column></mj-section></mj-body></mjml>")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes = b""


@dataclass
class Mailbox:
    """What the SMTP server accepted, and the replies it should give."""
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    refuse_rcpt: str | None = None  # e.g. "550 5.1.1 no such user"
    refuse_data: str | None = None
    delay: float = 0.0  # seconds before each DATA reply: a slow server, to kill a worker mid-batch
    parse: bool = True  # False: keep the raw bytes only (a benchmark's server must not be the bottleneck)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received if address in r.recipients]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        with self.box.lock:
            self.box.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.box.refuse_rcpt:
            return self.box.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.box.refuse_data:
            return self.box.refuse_data
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        parsed = message_from_bytes(envelope.content, policy=policy.default) if self.box.parse else EmailMessage()
        with self.box.lock:
            self.box.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed,  # type: ignore[arg-type]
                                              envelope.original_content or envelope.content))
        return "250 2.0.0 queued as test"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self) -> None:
        self.box = Mailbox()
        self.controller = Controller(_Handler(self.box), hostname="127.0.0.1", port=free_port())

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def template(s: Session, slug: str, subject: str, body: str = "<mj-text>Hello</mj-text>",
             category: str = "marketing", now: datetime | None = None) -> TemplateVersion:
    when = now or clock.now()
    row = Template(slug=slug, name=slug.title(), category=category, created_at=when, updated_at=when)
    s.add(row)
    s.flush()
    version = TemplateVersion(template_id=row.id, number=1, subject=subject, preheader="",
                              mjml=MJML_BODY.format(body=body), created_at=when)
    s.add(version)
    s.flush()
    return version


def journey(s: Session, graph: dict[str, Any], name: str = "Journey", now: datetime | None = None) -> Journey:
    when = now or clock.now()
    row = Journey(name=name, status=JourneyStatus.draft, draft=graph, created_at=when, updated_at=when)
    s.add(row)
    s.flush()
    versions.publish(s, row, graph, now=when)
    return row


def chain(trigger: str, *steps: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """trigger → steps… → exit, each step {"id", "type", "config"}."""
    nodes = [{"id": "start", "type": "trigger", "config": {"event": trigger}}, *steps,
             {"id": "end", "type": "exit"}]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"schema": 1, "settings": {"exit_events": [], **(settings or {})}, "nodes": nodes, "edges": edges}


def send(node_id: str, slug: str, category: str = "marketing") -> dict[str, Any]:
    return {"id": node_id, "type": "send", "config": {"template": slug, "category": category}}


def wait(node_id: str, duration: str) -> dict[str, Any]:
    return {"id": node_id, "type": "wait", "config": {"duration": duration}}


def event(name: str, email: str, key: str | None = None, **properties: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"event": name, "contact": {"email": email, "consent": {"marketing": "subscribed"},
                                                       "attributes": {"first_name": email.split("@")[0].title()}},
                            "properties": properties}
    if key:
        data["idempotency_key"] = key
    return data


def work(application: Any, only: tuple[str, ...] | None = None) -> None:
    """Run every queued job (of the queues named in `only`, else all) in this process with a
    real RQ worker, until those queues are empty."""
    from app import queues
    from app.workers import SimpleWorker

    queues.bind_worker_app(application)
    conn = application.extensions["redis"]
    worker = SimpleWorker([queues.get_queue(name, conn) for name in only or queues.ALL], connection=conn,
                          serializer="rq.serializers.JSONSerializer")
    worker.work(burst=True, logging_level="WARNING")


def tick(application: Any) -> None:
    """One scheduler tick (every tick task), against `application`'s database and Redis."""
    from app import tick_tasks
    from app.scheduler import TICK_TASKS

    tick_tasks._app = application
    tick_tasks._ticks = 0  # the reconciler runs on this tick
    for task in TICK_TASKS:
        task()


def post(application: Any, data: dict[str, Any], source: str = "test") -> int:
    """Store an event as the API does, and kick its processing."""
    from app import jobs
    from app.db import db
    from app.services import events

    with application.app_context():
        stored = events.ingest(db.session, events.parse(data), source=source, now=clock.now())
        jobs.kick_events()
        return stored.event_id


def run_until_quiet(application: Any, at: datetime, rounds: int = 5) -> None:
    """Set the clock to `at`, then tick and work until nothing is left to do."""
    clock.set_source(lambda: at)
    for _ in range(rounds):
        tick(application)
        work(application)


@dataclass
class HookRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class HookBox:
    """What the webhook receiver got, and how it should answer."""
    requests: list[HookRequest] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)  # statuses for the next requests, in order; then `status`
    status: int = 200
    delays: list[float] = field(default_factory=list)  # seconds before the next answers: a slow receiver
    location: str = ""  # the Location of a redirect
    retry_after: str = ""  # a Retry-After header on every answer, when set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.requests)


class HookServer:
    """A real HTTP server in the test process, on 127.0.0.1 and a free port: webhook calls land here."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        box = self.box = HookBox()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with box.lock:
                    box.requests.append(HookRequest(self.command, self.path,
                                                    {k.lower(): v for k, v in self.headers.items()}, body))
                    status = box.replies.pop(0) if box.replies else box.status
                    delay = box.delays.pop(0) if box.delays else 0.0
                if delay:
                    import time

                    time.sleep(delay)
                reply = b"ok"
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", box.location or "http://127.0.0.1:1/elsewhere")
                    if box.retry_after:
                        self.send_header("Retry-After", box.retry_after)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the caller gave up waiting (a timeout test)

            do_POST = do_PUT = do_PATCH = do_GET = _answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-answer is what the timeout test does

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


def webhook(node_id: str, url: str, body: str | None = None, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "webhook", "config": {"url": url, "body": body, **config}}


def allow_host(application: Any, pattern: str) -> None:
    """Put `pattern` on the webhook allow-list, as `journeys webhooks allow` does."""
    from app.db import db
    from app.services import webhook_hosts

    with application.app_context():
        with db.transaction() as s:
            webhook_hosts.allow(s, pattern, "test", clock.now())
