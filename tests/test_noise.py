"""The bootstrap on made-up systems: its point rates are summarize()'s, it tells noise from real change, and over
seeds it holds their spread."""

import random
from collections.abc import Callable

import numpy as np
import pytest

from lionrepro import paper
from lionrepro.asr.evaluation import summarize
from lionrepro.claims.bootstrap import paired_bootstrap, utterance_errors

SENTENCES = {
    "en": "the red cat sat on the green mat",  # 8 words
    "zh": "我们今天去公园散步",  # 9 characters
    "ta": "நான் இந்த புத்தகம் படித்தேன்",  # 4 words
    "ms": "saya suka makan nasi goreng",  # 5 words
}
PER_DATASET = 30


def _hypothesis(code: str, reference: str, wrong: int) -> str:
    """The reference with its first `wrong` units (characters in Mandarin, words elsewhere) substituted."""
    if code == "zh":
        return "错" * wrong + reference[wrong:]
    words = reference.split()
    return " ".join(["zzz"] * wrong + words[wrong:])


def _system(wrong: Callable[[str, int], int]) -> list[dict]:
    """PER_DATASET rows per benchmark; utterance i of test set `column` has wrong(column, i) substituted units."""
    rows = []
    for b in paper.BENCHMARKS:
        code = b.language.code
        for i in range(PER_DATASET):
            rows.append(
                {
                    "id": f"{b.column}-{i:03d}",
                    "language": code,
                    "dataset": b.dataset,
                    "reference": SENTENCES[code],
                    "hypothesis": _hypothesis(code, SENTENCES[code], wrong(b.column, i)),
                    "written_language": code,
                }
            )
    return rows


def _stats(result: dict) -> list[dict]:
    return [result["average_12"], *result["languages"].values()]


def test_utterance_errors_are_per_row_in_id_order_and_empty_references_count_nothing():
    rows = [
        {"id": "c", "language": "ms", "dataset": "FLEURS", "reference": "saya suka makan nasi", "hypothesis": "saya"},
        {"id": "a", "language": "ms", "dataset": "FLEURS", "reference": "[laughter]", "hypothesis": "saya suka"},
        {"id": "b", "language": "Malay", "dataset": "FLEURS", "reference": "saya suka", "hypothesis": "saya suka x y"},
        {"id": "d", "language": "zh", "dataset": "FLEURS", "reference": "我們今天", "hypothesis": "我们明天"},
    ]
    expected = {"ms/FLEURS": ([0, 2, 3], [0, 2, 4]), "zh/FLEURS": ([1], [4])}  # ids a, b, c; t2s before scoring
    for order in (rows, rows[::-1]):
        found = utterance_errors(order)
        assert list(found) == list(expected)
        for key, (errors, units) in expected.items():
            np.testing.assert_array_equal(found[key][0], errors)
            np.testing.assert_array_equal(found[key][1], units)


def test_identical_systems_differ_by_exactly_nothing():
    rows = _system(lambda column, i: i % 3)
    result = paired_bootstrap([rows], [rows], resamples=200)
    assert set(result["languages"]) == {"en", "zh", "ta", "ms"}
    for stat in _stats(result):
        assert stat["a"] == stat["b"] > 0
        assert stat["difference"] == stat["low"] == stat["high"] == 0
        assert not stat["significant"]


def test_a_system_much_better_on_many_utterances_is_significantly_better():
    worse = _system(lambda column, i: 2 if i % 2 else 0)  # half the utterances with 2 errors
    better = _system(lambda column, i: 1 if i % 10 == 0 else 0)  # one in ten with 1 error
    improved = paired_bootstrap([worse], [better], resamples=500)
    for stat in _stats(improved):
        assert stat["difference"] < 0 and stat["low"] <= stat["difference"] <= stat["high"] < 0
        assert stat["significant"]
    regressed = paired_bootstrap([better], [worse], resamples=500)
    for stat in _stats(regressed):
        assert 0 < stat["low"] <= stat["difference"] and stat["significant"]


def test_a_tiny_difference_on_few_utterances_is_noise():
    a = _system(lambda column, i: i % 2)
    b = _system(lambda column, i: i % 2 + (column in ("en_LS", "en_NSC") and i == 4))  # one more error in 2 sets
    result = paired_bootstrap([a], [b], resamples=1000)
    english = result["languages"]["en"]
    assert english["difference"] > 0 and english["low"] == 0 < english["high"]
    assert not english["significant"]
    assert 0 < result["average_12"]["difference"] and not result["average_12"]["significant"]
    assert all(result["languages"][code]["difference"] == 0 for code in ("zh", "ta", "ms"))


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: rows[1:],  # a missing utterance
        lambda rows: [{**rows[0], "id": "other"}, *rows[1:]],  # a different id
        lambda rows: [rows[0], *rows],  # a repeated id
        lambda rows: [{**rows[0], "reference": "the blue cat"}, *rows[1:]],  # another reference
        lambda rows: [{**rows[0], "dataset": "NSC"}, *rows[1:]],  # another test set
    ],
)
def test_systems_must_cover_the_same_utterances(change):
    rows = _system(lambda column, i: 0)
    with pytest.raises(ValueError, match="ids|id 'en_LS-000'"):
        paired_bootstrap([rows], [change(rows)], resamples=10)


def test_point_estimates_are_summarizes_rates():
    a = _system(lambda column, i: (i * 7 + len(column)) % 4)
    b = _system(lambda column, i: (i * 5) % 3)
    for rows in (a, b):  # insertions, and a reference that normalises to nothing (left out of the rate)
        rows[0]["hypothesis"] += " and then some"
        rows[-1]["reference"], rows[-1]["hypothesis"] = "[laughter]", "saya"
    result = paired_bootstrap([a], [b], resamples=50)
    scores_a, scores_b = summarize(a), summarize(b)
    assert scores_a["average_12"] != scores_b["average_12"]
    assert result["average_12"]["a"] == pytest.approx(scores_a["average_12"])
    assert result["average_12"]["b"] == pytest.approx(scores_b["average_12"])
    for code, stat in result["languages"].items():
        assert stat["a"] == pytest.approx(scores_a["languages"][code]["average"]), code
        assert stat["b"] == pytest.approx(scores_b["languages"][code]["average"]), code
        assert stat["difference"] == pytest.approx(stat["b"] - stat["a"]), code


def test_the_12_set_average_needs_all_12_sets():
    rows = [row for row in _system(lambda column, i: i % 2) if row["dataset"] != "SLR65"]
    result = paired_bootstrap([rows], [rows], resamples=10)
    assert result["average_12"] is None
    assert set(result["languages"]) == {"en", "zh", "ta", "ms"}


def test_the_same_seed_gives_the_same_intervals_whatever_the_row_order():
    a = _system(lambda column, i: i % 3)
    b = _system(lambda column, i: i % 2)
    first = paired_bootstrap([a], [b], resamples=300, seed=7, level=0.9)
    shuffled = b[:]
    random.Random(0).shuffle(shuffled)
    assert paired_bootstrap([a], [shuffled], resamples=300, seed=7, level=0.9) == first
    assert (first["resamples"], first["seed"], first["level"]) == (300, 7, 0.9)
    other = paired_bootstrap([a], [b], resamples=300, seed=8, level=0.9)
    assert [(s["low"], s["high"]) for s in _stats(other)] != [(s["low"], s["high"]) for s in _stats(first)]


def test_identical_seeds_give_the_one_seed_bootstrap_exactly():
    """Seeds are drawn from a stream of their own: copies of one seed change neither the points nor the intervals."""
    a = _system(lambda column, i: i % 3)
    b = _system(lambda column, i: i % 2)
    one = paired_bootstrap([a], [b], resamples=200, seed=3)
    three = paired_bootstrap([a, a, a], [b, b], resamples=200, seed=3)
    assert three["seeds"] == [3, 2] and one["seeds"] == [1, 1]
    for pooled, single in zip(_stats(three), _stats(one), strict=True):
        assert pooled == pytest.approx(single, rel=1e-12)  # a mean of three equal floats may round in the last bit


def test_the_seeds_spread_widens_the_interval_and_the_point_is_their_mean():
    """b's seeds disagree (one makes many errors, two few): the mean is b's point, and the interval, which resamples
    seeds, is far wider than any one seed's, so that seed luck is not called a difference."""
    a = _system(lambda column, i: i % 2)
    lucky = _system(lambda column, i: 0)
    unlucky = _system(lambda column, i: 3)
    seeds = [lucky, lucky, unlucky]
    pooled = paired_bootstrap([a], seeds, resamples=500)["average_12"]
    singles = [paired_bootstrap([a], [rows], resamples=500)["average_12"] for rows in seeds]
    assert pooled["b"] == pytest.approx(np.mean([s["b"] for s in singles]))
    assert pooled["high"] - pooled["low"] > 3 * max(s["high"] - s["low"] for s in singles)
    assert singles[0]["significant"] and singles[2]["significant"]  # each seed alone is "significant", both ways
    assert not pooled["significant"]


def test_every_seed_must_cover_the_same_utterances():
    rows = _system(lambda column, i: 0)
    with pytest.raises(ValueError, match="ids"):
        paired_bootstrap([rows, rows[1:]], [rows], resamples=10)
    with pytest.raises(ValueError, match="at least one seed"):
        paired_bootstrap([], [rows], resamples=10)
