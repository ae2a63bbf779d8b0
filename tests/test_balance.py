"""Algorithm 1's invariants, on small manifests and on Table 1 at paper scale."""

from collections import Counter

import numpy as np
import pytest

from lionrepro import paper
from lionrepro.corpora import balanced_sampling

SMALL = {("en", "A"): 10, ("en", "B"): 3, ("ta", "C"): 7, ("ta", "D"): 2, ("ta", "E"): 5, ("ms", "F"): 4}


@pytest.fixture(scope="module")
def paper_labels():
    return balanced_sampling.labels_from_counts(
        {(r.language.code, r.dataset): r.samples["train"] for r in paper.table1()}
    )


def _drawn(plan, languages, datasets):
    """Count the plan's rows per language and per (language, dataset), read from the labels of the drawn rows."""
    per_language = Counter(languages[i] for i in plan.indices)
    per_dataset = Counter((languages[i], datasets[i]) for i in plan.indices)
    return per_language, per_dataset


@pytest.mark.parametrize("reading", balanced_sampling.CHOICES)
def test_every_language_ends_with_the_same_count(reading):
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    plan = balanced_sampling.balance(languages, datasets, seed=1, reading=reading)
    per_language, per_dataset = _drawn(plan, languages, datasets)
    assert set(per_language.values()) == {plan.n_star_star}
    assert plan.indices.size == 3 * plan.n_star_star
    assert {ds.final for ds in plan.datasets} == {per_dataset[(ds.language, ds.dataset)] for ds in plan.datasets}
    for ds in plan.datasets:
        assert per_dataset[(ds.language, ds.dataset)] == ds.final


def test_union_reading_counts_by_hand():
    # en: N* = 10, two datasets -> 20 after Stage 1; ta: N* = 7, three -> 21; ms: N* = 4, one -> 4. N** = 21.
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    plan = balanced_sampling.balance(languages, datasets, seed=0, reading="union")
    by_lang = {lang.language: lang for lang in plan.languages}
    assert plan.n_star_star == 21
    assert (by_lang["en"].after_stage1, by_lang["ta"].after_stage1, by_lang["ms"].after_stage1) == (20, 21, 4)
    assert (by_lang["en"].replication, by_lang["ta"].replication, by_lang["ms"].replication) == (2, 1, 6)
    by_ds = {ds.dataset: ds for ds in plan.datasets}
    # r = ceil(N*_l / n): B 10/3 -> 4, D 7/2 -> 4, E 7/5 -> 2; the largest dataset is never replicated.
    assert [by_ds[k].replication for k in "ABCDEF"] == [1, 4, 1, 4, 2, 1]
    # Within a language every dataset holds N*_l rows after Stage 1.
    assert [by_ds[k].after_stage1 for k in "ABCDEF"] == [10, 10, 7, 7, 7, 4]


def test_comment_reading_counts_by_hand():
    # Each language is N*_l after Stage 1, split evenly over its datasets: en 5+5, ta 3+2+2 (7 = 3*2 + 1), ms 4.
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    plan = balanced_sampling.balance(languages, datasets, seed=0, reading="comment")
    assert plan.n_star_star == 10
    by_ds = {ds.dataset: ds for ds in plan.datasets}
    assert [by_ds[k].after_stage1 for k in "ABCDEF"] == [5, 5, 3, 2, 2, 4]


def test_skipping_stage1_keeps_each_language_s_datasets_in_their_natural_proportions():
    # No Stage 1: en 13, ta 14, ms 4 rows as they come; N** = 14, the largest language. Tamil, already the largest, is
    # taken whole (7, 2, 5); English is replicated twice and subsampled to 14, Malay four times.
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    plan = balanced_sampling.balance(languages, datasets, seed=0, reading=balanced_sampling.NO_STAGE1)
    assert plan.n_star_star == 14
    by_ds = {ds.dataset: ds for ds in plan.datasets}
    assert [by_ds[k].replication for k in "ABCDEF"] == [1] * 6
    assert [by_ds[k].after_stage1 for k in "ABCDEF"] == [10, 3, 7, 2, 5, 4]
    assert [by_ds[k].final for k in "CDE"] == [7, 2, 5]
    assert {lang.language: lang.replication for lang in plan.languages} == {"en": 2, "ta": 1, "ms": 4}
    ta_rows = Counter(int(i) for i in plan.indices if languages[i] == "ta")
    assert len(ta_rows) == 14 and set(ta_rows.values()) == {1}


def test_upsampling_keeps_every_row_of_a_dataset_that_is_replicated_whole():
    # A dataset with r = ceil(N*/n) copies subsampled to N* >= n rows: with N* = r * n every row appears r times.
    languages, datasets = balanced_sampling.labels_from_counts({("en", "A"): 9, ("en", "B"): 3})
    plan = balanced_sampling.balance(languages, datasets, seed=5)
    b_rows = Counter(int(i) for i in plan.indices if datasets[i] == "B")
    assert sorted(b_rows) == [9, 10, 11] and set(b_rows.values()) == {3}


def test_seeded_determinism_and_seed_sensitivity():
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    first = balanced_sampling.balance(languages, datasets, seed=3)
    again = balanced_sampling.balance(languages, datasets, seed=3)
    other = balanced_sampling.balance(languages, datasets, seed=4)
    assert np.array_equal(first.indices, again.indices)
    assert not np.array_equal(first.indices, other.indices)
    assert first.counts() == again.counts()


def test_input_order_does_not_change_the_counts():
    languages, datasets = balanced_sampling.labels_from_counts(SMALL)
    reversed_plan = balanced_sampling.balance(languages[::-1], datasets[::-1], seed=0)
    assert reversed_plan.counts() == balanced_sampling.balance(languages, datasets, seed=0).counts()


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="empty"):
        balanced_sampling.balance([], [], seed=0)
    with pytest.raises(ValueError, match="labels"):
        balanced_sampling.balance(["en"], [], seed=0)
    with pytest.raises(ValueError, match="reading"):
        balanced_sampling.balance(["en"], ["A"], seed=0, reading="both")


@pytest.mark.parametrize(("reading", "n_star_star"), [("union", 4 * 120098), ("comment", 120098)])
def test_paper_scale_invariants(paper_labels, reading, n_star_star):
    languages, datasets = paper_labels
    assert len(languages) == 479364
    plan = balanced_sampling.balance(languages, datasets, seed=0, reading=reading)
    assert plan.n_star_star == n_star_star
    assert plan.indices.size == 4 * n_star_star
    assert {lang.final for lang in plan.languages} == {n_star_star}
    for lang in plan.languages:
        stage1 = [ds.after_stage1 for ds in plan.datasets if ds.language == lang.language]
        assert sum(stage1) == lang.after_stage1
        assert max(stage1) - min(stage1) <= (0 if reading == "union" else 1)
        finals = sum(ds.final for ds in plan.datasets if ds.language == lang.language)
        assert finals == n_star_star
    for ds in plan.datasets:
        assert ds.replication == -(-lang_n_star(plan, ds.language) // ds.original)


def lang_n_star(plan, language):
    return next(lang.n_star for lang in plan.languages if lang.language == language)
