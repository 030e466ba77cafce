"""Statistics for A/B results and incremental lift: pure functions, randomness handed in.

Rates are Beta-Binomial: a variant with s successes out of n has the posterior
Beta(1 + s, 1 + n - s) under a uniform prior. For two variants the probability
that one beats the other has a closed form (a finite sum, exact for integer
counts); for more, a Monte Carlo estimate draws from the posteriors with the
random generator the caller hands in, so a seeded generator gives the same
answer every time. Intervals use the normal approximation (Wald for a
difference of proportions, Welch's standard error for a difference of means).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

#: Posterior draws per variant for the Monte Carlo probability to be best.
DRAWS = 20_000
#: Above this many successes the closed form's sum is long; a normal approximation of the
#: Beta posteriors is indistinguishable there.
EXACT_LIMIT = 200_000
_NORMAL = NormalDist()


class BetaSampler(Protocol):
    """What the Monte Carlo needs of a random generator (random.Random has it)."""

    def betavariate(self, alpha: float, beta: float) -> float: ...


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.successes <= self.trials:
            raise ValueError(f"a rate needs 0 <= successes <= trials, not {self.successes}/{self.trials}")

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None


@dataclass(frozen=True)
class ZTest:
    """Two-sided test of equal proportions: z of (b − a) over the pooled standard error."""

    difference: float
    z: float
    p_value: float


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    level: float


@dataclass(frozen=True)
class Summary:
    """Count, mean and sample variance (n − 1 in the denominator) of some values."""

    n: int
    mean: float
    variance: float


def summarize(values: Sequence[float]) -> Summary:
    n = len(values)
    if n == 0:
        return Summary(0, 0.0, 0.0)
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return Summary(n, mean, variance)


def z_quantile(level: float) -> float:
    """The two-sided normal quantile: 1.959… for 0.95."""
    if not 0 < level < 1:
        raise ValueError(f"a confidence level is between 0 and 1, not {level}")
    return _NORMAL.inv_cdf(0.5 + level / 2)


def two_proportion_z_test(a: Rate, b: Rate) -> ZTest | None:
    """None when it is undefined: an empty group, or no variation at all (0% or 100% in both)."""
    if not a.trials or not b.trials:
        return None
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if se == 0:
        return None
    difference = b.successes / b.trials - a.successes / a.trials
    z = difference / se
    return ZTest(difference, z, 2 * (1 - _NORMAL.cdf(abs(z))))


def _lbeta(x: float, y: float) -> float:
    return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)


def probability_b_beats_a(a: Rate, b: Rate) -> float:
    """P(rate of b > rate of a) under uniform priors, exactly (Beta posteriors)."""
    alpha_a, beta_a = 1 + a.successes, 1 + a.trials - a.successes
    alpha_b, beta_b = 1 + b.successes, 1 + b.trials - b.successes
    if alpha_b > EXACT_LIMIT:
        return _normal_approximation(alpha_a, beta_a, alpha_b, beta_b)
    base = _lbeta(alpha_a, beta_a)
    total = math.fsum(
        math.exp(_lbeta(alpha_a + i, beta_a + beta_b) - math.log(beta_b + i) - _lbeta(1 + i, beta_b) - base)
        for i in range(alpha_b))
    return min(max(total, 0.0), 1.0)


def _normal_approximation(alpha_a: float, beta_a: float, alpha_b: float, beta_b: float) -> float:
    def moments(alpha: float, beta: float) -> tuple[float, float]:
        total = alpha + beta
        return alpha / total, alpha * beta / (total ** 2 * (total + 1))
    mean_a, var_a = moments(alpha_a, beta_a)
    mean_b, var_b = moments(alpha_b, beta_b)
    return _NORMAL.cdf((mean_b - mean_a) / math.sqrt(var_a + var_b))


def probability_to_be_best(rates: Sequence[Rate], rng: BetaSampler | None = None,
                           draws: int = DRAWS) -> list[float]:
    """Per variant, the posterior probability that its rate is the highest.

    Two variants: the exact closed form (no randomness). More: Monte Carlo with `rng`,
    which the caller must hand in (seeded, for answers that do not move between calls).
    """
    if len(rates) < 2:
        return [1.0] * len(rates)
    if len(rates) == 2:
        second = probability_b_beats_a(rates[0], rates[1])
        return [1 - second, second]
    if rng is None:
        raise ValueError("more than two variants need a random generator for the Monte Carlo estimate")
    wins = [0] * len(rates)
    params = [(1 + r.successes, 1 + r.trials - r.successes) for r in rates]
    for _ in range(draws):
        samples = [rng.betavariate(alpha, beta) for alpha, beta in params]
        wins[samples.index(max(samples))] += 1
    return [w / draws for w in wins]


def difference_of_proportions(control: Rate, treated: Rate, level: float = 0.95) -> Interval | None:
    """treated − control with a Wald interval (unpooled standard error); None for an empty group."""
    if not control.trials or not treated.trials:
        return None
    p_c, p_t = control.successes / control.trials, treated.successes / treated.trials
    se = math.sqrt(p_c * (1 - p_c) / control.trials + p_t * (1 - p_t) / treated.trials)
    half = z_quantile(level) * se
    estimate = p_t - p_c
    return Interval(estimate, estimate - half, estimate + half, level)


def difference_of_means(control: Summary, treated: Summary, level: float = 0.95) -> Interval | None:
    """treated − control with a normal interval on Welch's standard error; None for an empty group."""
    if not control.n or not treated.n:
        return None
    se = math.sqrt(control.variance / control.n + treated.variance / treated.n)
    half = z_quantile(level) * se
    estimate = treated.mean - control.mean
    return Interval(estimate, estimate - half, estimate + half, level)


def scaled(interval: Interval, factor: float) -> Interval:
    """The interval of `factor` × the estimate (per-contact lift → lift over a whole group)."""
    low, high = sorted((interval.low * factor, interval.high * factor))
    return Interval(interval.estimate * factor, low, high, interval.level)
