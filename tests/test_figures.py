"""The figures of the tiny experiments, drawn from a synthetic summary of three seeds (tests/report_kit.py): a run's
bar is its mean over seeds with an error bar of ± its sample sd (none for the base's one evaluation), a dot per seed,
a training curve per seed, and the files read named in the footer."""

from __future__ import annotations

import math
import statistics

import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from report_kit import experiments

from lionrepro.languages import LANGUAGES
from lionrepro.report import figure_data, figures


@pytest.fixture
def summary(tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path))
    monkeypatch.setattr(figure_data, "READ", {})
    return experiments(tmp_path)


def _over_seeds(run: dict, key: str, column: str) -> list[float]:
    return [scores[key][column] for scores in run["seeds"].values()]


def _bars(ax) -> dict[str, tuple[list[float], list[float]]]:
    """Series -> (bar heights, half-lengths of their error bars; NaN where none)."""
    found = {}
    for bars in (c for c in ax.containers if isinstance(c, BarContainer)):
        segments = bars.errorbar.lines[2][0].get_segments()
        halves = [(s[1][1] - s[0][1]) / 2 if len(s) else math.nan for s in segments]
        found[bars.get_label()] = ([b.get_height() for b in bars], halves)
    return found


def test_language_effect_draws_means_with_their_sd_and_a_dot_per_seed(summary):
    fig = figures.language_effect()
    ax = fig.axes[0]
    bars = _bars(ax)
    assert list(bars) == list(summary["runs"])
    for name in ("recipe", "natural"):
        heights, halves = bars[name]
        for code, height, half in zip(LANGUAGES, heights, halves, strict=True):
            values = _over_seeds(summary["runs"][name], "languages", code)
            assert height == pytest.approx(statistics.fmean(values))
            assert half == pytest.approx(statistics.stdev(values))
    heights, halves = bars["base"]
    assert heights == [50.0] * 4 and all(math.isnan(half) for half in halves)  # one evaluation: no error bar
    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    seeds = [scores for run in summary["runs"].values() for scores in run["seeds"].values()]
    assert sorted(y for _, y in dots.get_offsets()) == sorted(s["languages"][c] for s in seeds for c in LANGUAGES)
    footer = fig.texts[-1].get_text()
    assert str(figure_data.experiments_path()) in footer and "cpu: synthetic, commit aaaaaaaaaaaa" in footer


def test_table2_benchmarks_puts_error_bars_on_the_runs_with_seeds(summary):
    bars = _bars(figures.table2_benchmarks().axes[1])
    recipe = summary["runs"]["recipe"]
    assert bars["recipe"][0][0] == pytest.approx(41.71) and bars["recipe"][1][0] == pytest.approx(2.10)
    assert bars["recipe"][1][1] == pytest.approx(recipe["sd"]["benchmarks"]["en_NSC"]) == pytest.approx(1.0)
    assert all(math.isnan(half) for half in bars["base"][1])


def test_table2_cells_give_each_run_its_mean_and_sd_rows(summary):
    cells = figures.table2_cells()
    base = cells.loc["ours, tiny: base (Lion-12, one evaluation)"]
    mean = cells.loc["ours, tiny: recipe (Lion-12, mean over seeds 0, 1, 2)"]
    sd = cells.loc["ours, tiny: recipe (Lion-12, sd over seeds 0, 1, 2)"]
    averages = [scores["average_12"] for scores in summary["runs"]["recipe"]["seeds"].values()]
    assert (base["en_LS"], mean["en_LS"], sd["en_LS"]) == (50.0, 41.71, 2.1)
    assert (mean["avg"], sd["avg"]) == (round(statistics.fmean(averages), 2), round(statistics.stdev(averages), 2))


def test_training_curves_draw_every_seed_of_every_run(summary):
    tuned = [c for c in figure_data.training_curves() if c.seed is not None]
    labels = [f"{run} seed {seed}" for run in ("natural", "recipe") for seed in (0, 1, 2)]
    assert [c.label for c in tuned] == labels
    assert tuned[4].points[0] == {"step": 10, "loss": 5.0 / 10 + 1}  # recipe seed 1's curve.jsonl
    fig = figures.training_curves()
    assert [line.get_label() for line in fig.axes[1].get_lines()] == labels
    footer = fig.texts[-1].get_text()
    for run, seed in ((c.run, c.seed) for c in tuned):
        assert f"experiments/{run}/{figure_data.SEED_PREFIX}{seed}/curve.jsonl" in footer
