"""Algorithm 1 on the paper-scale manifest (Table 1's 479,364 training rows): it must stay well under a second."""

import pytest

from lionrepro import paper
from lionrepro.corpora import balanced_sampling


@pytest.fixture(scope="module")
def paper_scale_labels():
    return balanced_sampling.labels_from_counts(
        {(r.language.code, r.dataset): r.samples["train"] for r in paper.table1()}
    )


@pytest.mark.parametrize("reading", balanced_sampling.READINGS)
def test_algorithm1_paper_scale(benchmark, paper_scale_labels, reading):
    languages, datasets = paper_scale_labels
    plan = benchmark(balanced_sampling.balance, languages, datasets, seed=0, reading=reading)
    assert {lang.final for lang in plan.languages} == {plan.n_star_star}
