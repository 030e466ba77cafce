"""Incremental lift: the mailed group against the holdout, on fixed outcomes, against scipy."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from app.services.analytics.lift import Outcome, compare


def test_lift_reads_in_plain_words_and_matches_the_reference():
    mailed = [Outcome(True, Decimal("120.00"))] * 30 + [Outcome(True, Decimal(0))] * 2 + [Outcome(False, Decimal(0))] * 468
    holdout = [Outcome(True, Decimal("120.00"))] * 3 + [Outcome(False, Decimal(0))] * 97
    found = compare(mailed, holdout, 7, "EUR")
    a = np.array([float(o.revenue) for o in mailed])
    b = np.array([float(o.revenue) for o in holdout])
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    z = stats.norm.ppf(0.975)
    per_contact = a.mean() - b.mean()
    assert found.revenue_total is not None and found.conversion is not None
    assert found.revenue_total.estimate == pytest.approx(per_contact * 500)
    assert (found.revenue_total.low, found.revenue_total.high) == pytest.approx(
        ((per_contact - z * se) * 500, (per_contact + z * se) * 500))
    assert found.conversion.estimate == pytest.approx(32 / 500 - 3 / 100)
    assert found.mailed.converted == 32 and found.holdout.revenue == Decimal("360.00")
    assert found.reading.startswith(f"The journey caused about {per_contact * 500:,.0f} EUR (95% CI ")
    assert "includes zero" in found.reading  # 3 of 100 in the holdout: too few to be sure


def test_without_a_holdout_there_is_nothing_to_compare():
    found = compare([Outcome(True, Decimal("10"))] * 5, [], 7, "EUR")
    assert found.revenue_total is None and found.reading.startswith("Not enough data yet")
