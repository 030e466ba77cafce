"""The journey core: pure Python, no framework, no I/O, no clock of its own.

Given a journey graph, a contact's facts and state, a stimulus and `now`, it
decides what happens next and returns the effects for `app/` to perform.
"""
from journeys.graph import Journey
from journeys.interpreter import Decision, PastEnrollment, TraceStep, admission, advance, start
from journeys.problems import Problem, Report
from journeys.state import TIMER, ContactFacts, EnrollmentState, Event, Policy
from journeys.validation import TemplateInfo, load, validate

__all__ = [
    "TIMER", "ContactFacts", "Decision", "EnrollmentState", "Event", "Journey", "PastEnrollment",
    "Policy", "Problem", "Report", "TemplateInfo", "TraceStep", "admission", "advance", "load",
    "start", "validate",
]
