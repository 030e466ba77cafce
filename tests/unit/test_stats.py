"""A/B and lift statistics against scipy's reference computations on fixed counts."""
from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import integrate, stats

from journeys.stats import (Rate, Summary, difference_of_means, difference_of_proportions, probability_b_beats_a,
                            probability_to_be_best, scaled, summarize, two_proportion_z_test, z_quantile)

COUNTS = [((45, 500), (62, 500)), ((12, 480), (9, 510)), ((0, 30), (3, 30)), ((130, 1000), (130, 1000)),
          ((5, 5), (4, 5)), ((310, 4000), (355, 4100))]


def _reference_b_beats_a(a: Rate, b: Rate) -> float:
    pa = stats.beta(1 + a.successes, 1 + a.trials - a.successes)
    pb = stats.beta(1 + b.successes, 1 + b.trials - b.successes)
    value, _ = integrate.quad(lambda x: pb.pdf(x) * pa.cdf(x), 0, 1, limit=200, points=[pa.mean(), pb.mean()])
    return value


@pytest.mark.parametrize(("a", "b"), COUNTS)
def test_probability_that_b_beats_a_is_exact(a, b):
    ra, rb = Rate(*a), Rate(*b)
    assert probability_b_beats_a(ra, rb) == pytest.approx(_reference_b_beats_a(ra, rb), abs=1e-7)
    best = probability_to_be_best([ra, rb])
    assert sum(best) == pytest.approx(1) and best[1] == pytest.approx(_reference_b_beats_a(ra, rb), abs=1e-7)


def test_equal_counts_are_a_coin_toss():
    assert probability_b_beats_a(Rate(130, 1000), Rate(130, 1000)) == pytest.approx(0.5, abs=1e-9)


def test_large_counts_use_the_normal_approximation_and_agree():
    a, b = Rate(250_000, 1_000_000), Rate(251_500, 1_000_000)
    assert probability_b_beats_a(a, b) == pytest.approx(_reference_b_beats_a(a, b), abs=2e-3)


def test_three_variants_by_monte_carlo_with_a_seeded_generator():
    rates = [Rate(40, 500), Rate(55, 500), Rate(50, 500)]
    dists = [stats.beta(1 + r.successes, 1 + r.trials - r.successes) for r in rates]

    def reference(j: int) -> float:
        others = [d for i, d in enumerate(dists) if i != j]
        value, _ = integrate.quad(lambda x: dists[j].pdf(x) * np.prod([d.cdf(x) for d in others]), 0, 1, limit=200)
        return value

    found = probability_to_be_best(rates, random.Random(7))
    assert found == probability_to_be_best(rates, random.Random(7))  # the same seed, the same answer
    assert sum(found) == pytest.approx(1)
    for j in range(3):
        assert found[j] == pytest.approx(reference(j), abs=0.012)
    with pytest.raises(ValueError, match="random generator"):
        probability_to_be_best(rates)


@pytest.mark.parametrize(("a", "b"), [c for c in COUNTS if c[0] != c[1] and c[0][0] + c[1][0] not in (0, 9)])
def test_two_proportion_z_test_matches_the_chi_square_test(a, b):
    test = two_proportion_z_test(Rate(*a), Rate(*b))
    table = [[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert test is not None
    assert test.z ** 2 == pytest.approx(chi2, rel=1e-9) and test.p_value == pytest.approx(p, rel=1e-9)
    assert test.difference == pytest.approx(b[0] / b[1] - a[0] / a[1])
    assert (test.z > 0) == (b[0] / b[1] > a[0] / a[1])


def test_z_test_is_undefined_without_variation_or_data():
    assert two_proportion_z_test(Rate(0, 100), Rate(0, 100)) is None
    assert two_proportion_z_test(Rate(0, 0), Rate(3, 10)) is None


def test_difference_of_proportions_is_the_wald_interval():
    control, treated = Rate(30, 900), Rate(52, 1000)
    interval = difference_of_proportions(control, treated)
    pc, pt = 30 / 900, 52 / 1000
    se = np.sqrt(pc * (1 - pc) / 900 + pt * (1 - pt) / 1000)
    z = stats.norm.ppf(0.975)
    assert interval is not None
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((pt - pc, pt - pc - z * se, pt - pc + z * se))
    assert z_quantile(0.95) == pytest.approx(z) and z_quantile(0.9) == pytest.approx(stats.norm.ppf(0.95))


def test_difference_of_means_uses_welchs_standard_error():
    rng = np.random.default_rng(3)
    mailed = np.where(rng.random(800) < 0.06, rng.gamma(2.0, 40.0, 800), 0.0)
    holdout = np.where(rng.random(200) < 0.04, rng.gamma(2.0, 40.0, 200), 0.0)
    interval = difference_of_means(summarize(list(holdout)), summarize(list(mailed)))
    welch = stats.ttest_ind(mailed, holdout, equal_var=False)
    se = (mailed.mean() - holdout.mean()) / welch.statistic
    assert interval is not None
    assert interval.estimate == pytest.approx(mailed.mean() - holdout.mean())
    assert interval.high - interval.estimate == pytest.approx(stats.norm.ppf(0.975) * se)
    assert summarize(list(mailed)).variance == pytest.approx(np.var(mailed, ddof=1))
    total = scaled(interval, 800)
    assert (total.estimate, total.low, total.high) == pytest.approx(
        (interval.estimate * 800, interval.low * 800, interval.high * 800))


def test_empty_groups_have_no_interval():
    assert difference_of_means(Summary(0, 0, 0), summarize([1.0, 2.0])) is None
    assert difference_of_proportions(Rate(0, 0), Rate(1, 2)) is None
    with pytest.raises(ValueError):
        Rate(5, 3)
