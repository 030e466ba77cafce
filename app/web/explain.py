"""Reason codes of traces and messages, in words: what the contact page says about a skip."""
from __future__ import annotations

#: code → why the contact did not get (or did not go on), in a sentence a marketer reads.
REASONS: dict[str, str] = {
    "unsubscribed": "the contact had unsubscribed from marketing email",
    "no_consent": "no marketing consent: the contact never opted in (Settings → Workspace: consent)",
    "unconfirmed": "double opt-in pending: the contact has not clicked the confirmation link yet",
    "suppressed": "the address is suppressed (a bounce, a complaint, an erasure or an admin's block)",
    "holdout": "the contact is in the journey's holdout group, which is never mailed",
    "quiet_hours": "postponed to the end of the quiet hours",
    "frequency_cap": "the frequency cap was reached",
    "filtered_out": "the trigger's filter did not match",
    "already_enrolled": "the contact was in this journey already",
    "reentry_never": "the journey admits each contact once",
    "reentry_too_soon": "too soon to enter this journey again",
    "exit_event": "an exit event ended the journey for the contact",
    "step_budget": "the journey looped too long without waiting and was stopped",
    "journey_archived": "the journey was archived",
    "contact_erased": "the contact was erased",
    "goal_window_elapsed": "the goal's window ran out",
    "not_awaiting_confirmation": "no confirmation was needed any more",
}


def explain(code: str | None) -> str:
    return REASONS.get(code or "", code or "")
