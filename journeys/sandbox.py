"""The Jinja sandbox marketers' templates run in.

Templates are untrusted: they run in an ImmutableSandboxedEnvironment over
plain data, with no loader (nothing to include), a few dangerous globals
removed, and a deterministic work budget: every loop iteration, call,
attribute lookup and filter costs one operation, and products that would
build huge strings or numbers are refused before they are computed. The
budget lives in a context variable, so one environment serves every render.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from journeys.errors import TemplateError
from journeys.links import LINK_FILTERS

LOOP_GUARD = "_journeys_loop_guard"
COMBINED = "journeys:combined"
"""The name of the renderer's own four-block template; authors may not write blocks."""
REMOVED_GLOBALS = ("lipsum", "cycler", "joiner", "namespace", "dict")


class Budget:
    __slots__ = ("left", "max_chars")

    def __init__(self, operations: int, max_chars: int) -> None:
        self.left = operations
        self.max_chars = max_chars

    def tick(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise TemplateError("the template does too much work (a loop that runs too long?)",
                                kind="limit")

    def check_size(self, value: Any) -> Any:
        if isinstance(value, (str, list, tuple, bytes)) and len(value) > self.max_chars:
            raise TemplateError(f"the template builds a value longer than {self.max_chars:,} "
                                "characters", kind="limit")
        return value


_budget: ContextVar[Budget | None] = ContextVar("journeys_template_budget", default=None)


def current_budget() -> Budget:
    budget = _budget.get()
    if budget is None:  # rendering outside `with_budget` still gets the default limits
        budget = Budget(100_000, 2_000_000)
        _budget.set(budget)
    return budget


def _spend() -> Budget:
    """One operation off the current budget, which it returns: the hot path of every lookup."""
    budget = _budget.get() or current_budget()
    budget.left -= 1
    if budget.left < 0:
        budget.tick()  # raises, with the one message
    return budget


def with_budget(budget: Budget) -> Any:
    return _budget.set(budget)


def reset_budget(token: Any) -> None:
    _budget.reset(token)


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = current_budget()
    for item in iterable:
        budget.left -= 1
        if budget.left < 0:
            budget.tick()
        yield item


class Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=ChainableUndefined, loader=None,
                         auto_reload=False, cache_size=0)
        for name in REMOVED_GLOBALS:
            self.globals.pop(name, None)
        self.filters = {name: _guarded(func) for name, func in self.filters.items()}
        self.filters.update(LINK_FILTERS)
        self.filters[LOOP_GUARD] = _loop_guard  # unguarded: it is the guard

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            # A filter, not a call of a global: compiled templates call filters directly,
            # without the sandbox's call machinery (a loop costs one operation per item anyway).
            loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
        for reference in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            raise TemplateSyntaxError("templates cannot include, extend or import other templates",
                                      reference.lineno, name, filename)
        if name != COMBINED:
            for block in tree.find_all(nodes.Block):
                raise TemplateSyntaxError("templates cannot define blocks", block.lineno, name, filename)
        return tree

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        budget = current_budget()
        budget.tick()
        if op == "*":
            _check_product(left, right, budget)
        elif op == "**":
            _check_power(left, right)
        result = _BINOPS[op](left, right)
        return budget.check_size(result)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _spend()
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > budget.max_chars:
                raise TemplateError(f"the number {value:,} is too large for a template", kind="limit")
        return budget.check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        # Context data is plain dicts: a key is data, never a method, so it can be
        # returned without the sandbox's attribute probing (the hot path).
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        if type(obj) is dict and type(argument) is str:
            # Subscript reads data only: event['items'] of an event without items is
            # undefined, never the dict's own items() method that attribute lookup falls back to.
            return obj[argument] if argument in obj else self.undefined(obj=obj, name=argument)
        if type(obj) is list and type(argument) is int and -len(obj) <= argument < len(obj):
            return obj[argument]
        return super().getitem(obj, argument)


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul, "**": operator.pow, "+": operator.add, "%": operator.mod,
    "//": operator.floordiv,
}


def _check_product(left: Any, right: Any, budget: Budget) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            if len(seq) * count > budget.max_chars:
                raise TemplateError("the template builds a value that is too long", kind="limit")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        if exponent * math.log2(abs(base)) > 1024:
            raise TemplateError("the template computes a number that is too large", kind="limit")


def _guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that costs one operation and may not return an oversized value."""
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _spend()
        for value in (*args[1:], *kwargs.values()) if len(args) > 1 or kwargs else ():
            if isinstance(value, int) and not isinstance(value, bool) and value > budget.max_chars:
                raise TemplateError(f"the number {value:,} is too large for a template", kind="limit")
        return budget.check_size(func(*args, **kwargs))
    for flag in ("jinja_pass_arg",):
        if hasattr(func, flag):
            setattr(guarded, flag, getattr(func, flag))
    guarded.__name__ = getattr(func, "__name__", "filter")
    return guarded
