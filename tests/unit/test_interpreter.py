"""The interpreter, node type by node type, as a contact would experience it."""
from __future__ import annotations

from datetime import timedelta

from journeys import TIMER, ContactFacts, PastEnrollment, Policy, admission, advance, start
from journeys.effects import CallWebhook, RecordGoal, SendEmail, UpdateContact
from journeys.interpreter import Decision
from tests.unit.builders import T0, build, chain, contact, edge, event, linear, node

HOUR = timedelta(hours=1)


def outcomes(decision: Decision) -> list[tuple[str, str]]:
    return [(s.node, s.outcome) for s in decision.trace]


def enter(journey, who: ContactFacts | None = None, at=T0, **props) -> Decision:  # type: ignore[no-untyped-def]
    who = who or contact()
    return start(journey, who, event(journey.trigger_event, at, **props), at, key="e1")


def test_a_send_mails_once_with_a_key_per_enrollment_node_and_visit() -> None:
    journey = linear(node("m1", "send", template="welcome"))
    decision = enter(journey)
    assert outcomes(decision) == [("start", "entered"), ("m1", "sent"), ("end", "completed")]
    assert decision.effects == [SendEmail("e1:m1:1", "m1", "welcome", "marketing", None)]
    assert decision.state.status == "completed"


def test_a_duration_wait_rests_then_resumes_on_its_timer_only() -> None:
    journey = linear(node("w", "wait", duration="PT1H"), node("m1", "send", template="t"))
    waiting = enter(journey).state
    assert waiting.status == "waiting" and waiting.wake_at == T0 + HOUR
    early = advance(journey, waiting, contact(), TIMER, T0 + HOUR / 2)
    assert early.trace == [] and early.state is waiting
    done = advance(journey, waiting, contact(), TIMER, T0 + HOUR)
    assert outcomes(done) == [("w", "resumed"), ("m1", "sent"), ("end", "completed")]


def test_a_repeated_timer_after_the_step_changes_nothing() -> None:
    journey = linear(node("w", "wait", duration="PT1H"), node("m1", "send", template="t"))
    done = advance(journey, enter(journey).state, contact(), TIMER, T0 + HOUR).state
    again = advance(journey, done, contact(), TIMER, T0 + 2 * HOUR)
    assert again.trace == [] and again.effects == []


def test_wait_for_an_event_takes_the_event_or_the_timeout_port() -> None:
    nodes = [node("start", "trigger", event="checkout_started"),
             node("w", "wait", event="order_placed", timeout="P1D"),
             node("m1", "send", template="cart"), {"id": "bought", "type": "exit"},
             {"id": "end", "type": "exit"}]
    journey = build(nodes, [edge("start", "w"), edge("w", "bought", "event"),
                            edge("w", "m1", "timeout"), edge("m1", "end")], exit_events=[])
    waiting = enter(journey).state
    assert waiting.waiting_for == "order_placed"
    other = advance(journey, waiting, contact(), event("page_viewed", T0 + HOUR), T0 + HOUR)
    assert other.trace == []
    bought = advance(journey, waiting, contact(), event("order_placed", T0 + HOUR), T0 + HOUR)
    assert [(s.node, s.outcome, s.port) for s in bought.trace][:1] == [("w", "resumed", "event")]
    assert bought.state.node == "bought" and bought.effects == []
    timeout = advance(journey, waiting, contact(), TIMER, T0 + timedelta(days=1))
    assert timeout.trace[0].port == "timeout" and isinstance(timeout.effects[0], SendEmail)


def test_wait_until_a_local_time_on_weekdays() -> None:
    journey = linear(node("w", "wait", until={"time": "09:00", "weekdays": [1]}))
    state = enter(journey).state  # Tuesday 1 December, 13:00 in Warsaw
    assert state.wake_at == T0.replace(day=7, hour=8)  # Monday 09:00 CET


def test_condition_routes_on_contact_event_and_metrics() -> None:
    rule = {"all": [{"field": "contact.country", "op": "eq", "value": "PL"},
                    {"field": "event.total", "op": "gte", "value": 100}]}
    nodes = [node("start", "trigger", event="order_placed"), node("c", "condition", rule=rule),
             node("big", "send", template="thanks-big"), node("small", "send", template="thanks"),
             {"id": "end", "type": "exit"}]
    journey = build(nodes, [edge("start", "c"), edge("c", "big", "yes"), edge("c", "small", "no"),
                            edge("big", "end"), edge("small", "end")], exit_events=[])
    yes = enter(journey, contact(country="PL"), total=150)
    no = enter(journey, contact(country="PL"), total=50)
    assert [s.port for s in yes.trace if s.node == "c"] == ["yes"]
    assert [e.template for e in no.effects] == ["thanks"]


def test_ab_split_is_deterministic_and_tags_the_send_with_its_variant() -> None:
    split = node("ab", "ab_split", variants=[{"key": "A", "weight": 50}, {"key": "B", "weight": 50}])
    nodes = [node("start", "trigger", event="signup"), split, node("ma", "send", template="a"),
             node("mb", "send", template="b"), {"id": "end", "type": "exit"}]
    journey = build(nodes, [edge("start", "ab"), edge("ab", "ma", "A"), edge("ab", "mb", "B"),
                            edge("ma", "end"), edge("mb", "end")])
    first = [enter(journey, contact(f"c{i}")).effects[0] for i in range(40)]
    again = [enter(journey, contact(f"c{i}")).effects[0] for i in range(40)]
    assert first == again
    assert {e.variant for e in first} == {"A", "B"}
    assert all(e.template == e.variant.lower() for e in first)


def test_update_contact_is_an_effect_and_later_nodes_see_it() -> None:
    rule = {"field": "contact.tags", "op": "contains", "value": "vip"}
    nodes = [node("start", "trigger", event="signup"),
             node("u", "update_contact", set={"tier": "gold"}, add_tags=["vip"]),
             node("c", "condition", rule=rule), {"id": "end", "type": "exit"}]
    journey = build(nodes, [edge("start", "u"), edge("u", "c"), edge("c", "end", "yes"),
                            edge("c", "end", "no")])
    decision = enter(journey)
    assert decision.effects == [UpdateContact("e1:u:1", "u", {"tier": "gold"}, ("vip",), ())]
    assert [s.port for s in decision.trace if s.node == "c"] == ["yes"]


def test_webhook_is_described_not_called() -> None:
    journey = linear(node("h", "webhook", url="https://crm.example/hook", body='{"e": "{{ contact.email }}"}'))
    (effect,) = enter(journey).effects
    assert isinstance(effect, CallWebhook) and effect.method == "POST" and effect.key == "e1:h:1"


def test_goal_records_the_conversion_within_its_window_then_goes_on() -> None:
    journey = linear(node("g", "goal", event="order_placed", within="P7D"), exit_events=[])
    waiting = enter(journey).state
    reached = advance(journey, waiting, contact(), event("order_placed", T0 + HOUR), T0 + HOUR)
    assert outcomes(reached) == [("g", "goal_reached"), ("end", "completed")]
    assert reached.effects == [RecordGoal("e1:g:1", "g", "order_placed", T0 + HOUR)]
    missed = advance(journey, waiting, contact(), TIMER, T0 + timedelta(days=7))
    assert [(s.outcome, s.reason) for s in missed.trace][0] == ("passed", "goal_window_elapsed")
    assert missed.effects == []


def test_exit_events_end_the_enrollment_with_a_reason() -> None:
    journey = linear(node("w", "wait", duration="P1D"), node("m1", "send", template="t"))
    waiting = enter(journey).state
    left = advance(journey, waiting, contact(), event("order_placed", T0 + HOUR), T0 + HOUR)
    assert left.state.status == "exited" and left.state.exit_reason == "exit_event"
    assert [(s.outcome, s.reason) for s in left.trace] == [("exited", "exit_event")]
    assert advance(journey, left.state, contact(), TIMER, T0 + timedelta(days=2)).trace == []


def test_sends_skip_without_consent_or_when_suppressed_and_say_why() -> None:
    journey = linear(node("m1", "send", template="t"), node("m2", "send", template="receipt",
                                                              category="transactional"))
    cases = {"unsubscribed": contact(consent="unsubscribed"), "no_consent": contact(consent="pending")}
    for reason, who in cases.items():
        decision = enter(journey, who)
        assert [(s.node, s.outcome, s.reason) for s in decision.trace][1] == ("m1", "skipped", reason)
        assert [e.template for e in decision.effects] == ["receipt"]  # transactional still goes
    suppressed = contact()
    suppressed.suppressed = True
    assert enter(journey, suppressed).effects == []
    relaxed = start(journey, contact(consent="pending"), event(), T0, key="e1",
                    policy=Policy(consent_mode="not_unsubscribed"))
    assert len(relaxed.effects) == 2


def test_quiet_hours_defer_marketing_but_not_transactional_mail() -> None:
    late = T0.replace(hour=21)  # 22:00 in Warsaw
    journey = linear(node("m1", "send", template="promo"), quiet_hours={"start": "21:00", "end": "08:00"})
    deferred = enter(journey, at=late)
    step = deferred.trace[-1]
    assert (step.outcome, step.reason, step.until) == ("deferred", "quiet_hours", T0.replace(day=2, hour=7))
    assert deferred.effects == []
    sent = advance(journey, deferred.state, contact(), TIMER, step.until)
    assert sent.effects == [SendEmail("e1:m1:1", "m1", "promo", "marketing", None)]
    receipt = linear(node("m1", "send", template="r", category="transactional"),
                     quiet_hours={"start": "21:00", "end": "08:00"})
    assert len(enter(receipt, at=late).effects) == 1


def test_an_unsubscribe_during_the_deferral_still_stops_the_mail() -> None:
    journey = linear(node("m1", "send", template="promo"), quiet_hours={"start": "21:00", "end": "08:00"})
    deferred = enter(journey, at=T0.replace(hour=21))
    later = advance(journey, deferred.state, contact(consent="unsubscribed"), TIMER,
                    deferred.state.wake_at)
    assert later.effects == [] and later.trace[0].reason == "unsubscribed"


def test_frequency_cap_skips_by_default_and_defers_when_asked() -> None:
    capped = contact()
    capped.marketing_sends = (T0 - HOUR, T0 - 2 * HOUR)
    skip = linear(node("m1", "send", template="t"), frequency_cap={"max": 2, "per": "P1D"})
    assert enter(skip, capped).trace[1].reason == "frequency_cap"
    defer = linear(node("m1", "send", template="t", on_frequency_cap="defer"),
                   frequency_cap={"max": 2, "per": "P1D"})
    step = enter(defer, capped).trace[1]
    assert (step.outcome, step.until) == ("deferred", T0 - 2 * HOUR + timedelta(days=1))


def test_sends_in_one_walk_count_towards_the_cap() -> None:
    journey = linear(node("m1", "send", template="a"), node("m2", "send", template="b"),
                     frequency_cap={"max": 1, "per": "P1D"})
    decision = enter(journey)
    assert [e.template for e in decision.effects] == ["a"]


def test_holdout_contacts_are_tracked_but_never_mailed() -> None:
    journey = linear(node("m1", "send", template="t"), holdout_percent=50)
    decisions = [enter(journey, contact(f"c{i}")) for i in range(200)]
    held = [d for d in decisions if d.state.holdout]
    assert 60 < len(held) < 140
    assert all(d.effects == [] and d.trace[1].reason == "holdout" for d in held)


def test_reentry_rules() -> None:
    who, past = contact(), [PastEnrollment(T0 - timedelta(days=10), finished=True)]
    never = linear(node("m1", "send", template="t"))
    assert admission(never, who, event(), T0) is None
    assert admission(never, who, event(), T0, past) == "reentry_never"
    always = linear(node("m1", "send", template="t"), reentry="always")
    assert admission(always, who, event(), T0, past) is None
    assert admission(always, who, event(), T0, [PastEnrollment(T0, finished=False)]) == "already_enrolled"
    monthly = linear(node("m1", "send", template="t"), reentry="P30D")
    assert admission(monthly, who, event(), T0, past) == "reentry_too_soon"
    assert admission(monthly, who, event(), T0 + timedelta(days=21), past) is None


def test_trigger_filter_and_other_events() -> None:
    journey = linear(node("m1", "send", template="t"), event="order_placed")
    big = {"field": "event.total", "op": "gt", "value": 100}
    filtered = build([node("start", "trigger", event="order_placed", filter=big),
                      {"id": "end", "type": "exit"}], [edge("start", "end")])
    assert admission(journey, contact(), event("signup"), T0) == "other_event"
    assert admission(filtered, contact(), event("order_placed", total=50), T0) == "filtered_out"
    assert admission(filtered, contact(), event("order_placed", total=150), T0) is None


def test_a_loop_with_a_wait_counts_visits_in_message_keys() -> None:
    nodes = [node("start", "trigger", event="signup"), node("m1", "send", template="t"),
             node("w", "wait", duration="P1D")]
    journey = build(nodes, [edge("start", "m1"), edge("m1", "w"), edge("w", "m1")], exit_events=[])
    decision = enter(journey)
    keys = [decision.effects[0].key]
    for day in range(1, 4):
        decision = advance(journey, decision.state, contact(), TIMER, T0 + timedelta(days=day))
        keys.append(decision.effects[0].key)
    assert keys == ["e1:m1:1", "e1:m1:2", "e1:m1:3", "e1:m1:4"]


def test_the_step_budget_stops_a_runaway_walk() -> None:
    journey = linear(*[node(f"u{i}", "update_contact", add_tags=[f"t{i}"]) for i in range(20)])
    decision = start(journey, contact(), event(), T0, key="e1", budget=5)
    assert decision.state.status == "exited" and decision.state.exit_reason == "step_budget"
    assert len(decision.trace) == 6


def test_state_round_trips_through_json() -> None:
    from journeys.state import EnrollmentState
    journey = linear(node("w", "wait", duration="PT1H"))
    state = enter(journey).state
    assert EnrollmentState.from_dict(state.as_dict()) == state
    # What is at its default is left out of the stored form, and comes back as it was.
    assert set(state.as_dict()) == {"key", "status", "node", "entered_at", "visits", "steps", "wake_at"}
    full = EnrollmentState(key="e9", status="exited", node="w", entered_at=T0, event={"order": 7},
                           wake_at=T0 + timedelta(hours=1), waiting_for="order_placed", visits={"w": 2},
                           variants={"ab": "B"}, variant="B", holdout=True, exit_reason="exit_event", steps=4)
    assert EnrollmentState.from_dict(full.as_dict()) == full
    bare = EnrollmentState(key="e0", status="active", node="start", entered_at=T0)
    assert EnrollmentState.from_dict(bare.as_dict()) == bare


def test_a_holdout_contact_passes_a_webhook_without_a_call() -> None:
    journey = linear(node("h", "webhook", url="https://crm.example/hook"), holdout_percent=100)
    decision = enter(journey)
    assert decision.effects == []
    assert [(s.node, s.outcome, s.reason) for s in decision.trace][1] == ("h", "skipped", "holdout")
