"""Scaling, rounding and the model's selection rules, pinned to known values."""

import math

import numpy as np
import pandas as pd
import pytest

from scorecard.config import ModelSpec
from scorecard.build.model import Scaling, fit, round_half_away, round_half_away_array


def test_scaling_known_values():
    s = Scaling(pdo=20, base_score=600, base_odds=50)
    assert s.factor == pytest.approx(28.853900817779268)
    assert s.offset == pytest.approx(600 - 28.853900817779268 * math.log(50))
    # At the base score the odds of good are the base odds: P(bad) = 1/51.
    assert s.score_to_probability(600) == pytest.approx(1 / 51)
    # PDO points more double the odds of good.
    p1, p2 = s.score_to_probability([600, 620])
    assert ((1 - p2) / p2) / ((1 - p1) / p1) == pytest.approx(2.0)
    # Intercept -1.75 (about a 15 % bad rate) gives base points 487.12 + 50.49 -> 538.
    assert s.base_points(-1.75) == 538


@pytest.mark.parametrize(("value", "expected"), [(2.5, 3), (-2.5, -3), (2.4999, 2), (-0.5, -1), (0.0, 0), (7.5000001, 8)])
def test_round_half_away(value, expected):
    assert round_half_away(value) == expected
    assert round_half_away_array(np.array([value]))[0] == expected


def test_selection_keeps_only_significant_negative_coefficients():
    rng = np.random.default_rng(0)
    n = 4000
    good = rng.normal(size=n)
    noise = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(2 + 1.2 * good))).astype(int)
    # "wrong" carries signal the wrong way round once "good" is in the model.
    wrong = 0.8 * good + rng.normal(scale=0.6, size=n)
    woe = pd.DataFrame({"good": good, "wrong": wrong, "noise": noise})
    model = fit(woe, y, ModelSpec(max_p_value=0.05))
    assert model.features == ["good"]
    assert model.coefficient("good") < 0
    log = model.selection_log.set_index("feature")["reason"].to_dict()
    assert set(log) == {"wrong", "noise"}
    assert log["noise"] == "p-value above 0.05" or log["noise"] == "coefficient with the wrong sign"
