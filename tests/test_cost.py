"""Training cost: the paper-implied rates and the projection arithmetic (from Tables 1 and 4, never retyped), the
FLOP count's depth extrapolation against a direct count, and failure handling. No absolute time is asserted."""

from __future__ import annotations

import pytest
import torch

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.speed import training_cost
from lionrepro.speed.latency import CHECK_DEPTH, FIT_DEPTHS, extrapolate
from lionrepro.speed.training_cost import CostSettings, cost_table, run_cost

TINY = architectures.TINY.name


def test_rates_are_derived_from_table4():
    rates = training_cost.paper_rates()
    for system in ("Polyglot-Lion", "MERaLiON-2-10B"):
        row = paper.cost_row(system)
        expected = row.estimated_cost_usd / (row.gpu_count * row.training_time_hours)
        assert rates[row.gpu_model]["usd_per_gpu_hour"] == float(expected)
        assert str(row.estimated_cost_usd) in rates[row.gpu_model]["derivation"]


def test_train_split_hours_match_table1_total():
    assert training_cost.train_split_hours() == paper.table1_printed_total()["train_hours"]


def test_projection_arithmetic():
    proj = training_cost.projection(audio_hours_per_hour=100.0, device_rate=2.0)
    hours = float(training_cost.train_split_hours())
    budget = float(paper.cost_row("Polyglot-Lion").training_time_hours)
    assert proj["gpu_hours_per_epoch"] == pytest.approx(hours / 100.0)
    assert proj["epochs_in_paper_hours"] == pytest.approx(budget * 100.0 / hours)
    assert proj["usd_per_epoch"] == pytest.approx(2.0 * hours / 100.0)
    assert proj["usd_paper_hours"] == pytest.approx(2.0 * budget)
    assert training_cost.projection(100.0, None)["usd_per_epoch"] is None


@pytest.mark.parametrize(
    ("name", "rate_of"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H200", "H100"),
        ("NVIDIA RTX PRO 6000", "RTX PRO 6000"),
        ("cpu", None),
    ],
)
def test_device_rate(name, rate_of):
    rate, source = training_cost.device_rate(name, CostSettings())
    assert rate == (training_cost.paper_rates()[rate_of]["usd_per_gpu_hour"] if rate_of else None)
    assert source
    assert training_cost.device_rate(name, CostSettings(price_per_gpu_hour=1.5))[0] == 1.5


def test_peak_flops_prefers_the_specific_variant():
    assert training_cost.peak_flops("NVIDIA H100 PCIe") < training_cost.peak_flops("NVIDIA H100 80GB HBM3")
    assert training_cost.peak_flops("cpu") is None


def test_training_batch_masks_the_prompt():
    batch = training_cost.training_batch(TINY, [1.0, 2.0], target_tokens=5, device=torch.device("cpu"))
    assert (batch["labels"] != -100).sum(dim=1).tolist() == [5, 5]
    assert batch["labels"].shape == batch["input_ids"].shape == batch["attention_mask"].shape


@pytest.fixture(scope="module")
def tiny_cost():
    # Full depth (4, 4): the schema must not hang on timing noise; the extrapolation is tested on FLOPs and below.
    settings = CostSettings(models=(TINY,), batch_size=2, steps=1, warmup=0, target_tokens=4, full_depth=True)
    return run_cost(settings, log=lambda _: None)


def test_flops_extrapolate_exactly_to_a_direct_count(tiny_cost):
    """Model FLOPs are linear in depth: the count extrapolated from depths 1-2 equals the direct count at (4, 4)."""
    settings = CostSettings(models=(TINY,), batch_size=2, steps=1, warmup=0, target_tokens=4)
    fit = {
        d: float(training_cost.measure_training_depth(TINY, settings, d, log=lambda _: None)["flops_per_step"])
        for d in FIT_DEPTHS
    }
    assert round(extrapolate(fit, (4, 4))) == tiny_cost["models"][TINY]["flops_per_step"]
    assert (
        round(extrapolate(fit, CHECK_DEPTH))
        == training_cost.measure_training_depth(TINY, settings, CHECK_DEPTH, log=lambda _: None)["flops_per_step"]
    )


def test_results_schema_and_table(tiny_cost):
    model = tiny_cost["models"][TINY]
    assert model["status"] == "ok" and model["extrapolated"] is False
    assert model["mfu"] is None  # no MFU on a CPU
    assert model["audio_hours_per_hour"] > 0 and model["projection"]["gpu_hours_per_epoch"] > 0
    assert model["projection"]["usd_per_epoch"] is None  # no rental rate for a CPU
    assert set(tiny_cost["paper"]) == {"Polyglot-Lion", "MERaLiON-2-10B"}
    headers, rows = cost_table(tiny_cost)
    assert all(len(row) == len(headers) for row in rows)
    assert any("not measured on GPU" in row for row in rows)


def test_out_of_memory_halves_the_batch(monkeypatch):
    seen = []
    real = training_cost.measure_training

    def fake(name, settings, log):
        seen.append(settings.batch_size)
        if settings.batch_size > 1:
            raise torch.cuda.OutOfMemoryError("simulated")
        return real(name, settings, log)

    monkeypatch.setattr(training_cost, "measure_training", fake)
    settings = CostSettings(models=(TINY,), batch_size=4, steps=1, warmup=0, target_tokens=2, full_depth=True)
    result = run_cost(settings, log=lambda _: None)["models"][TINY]
    assert seen == [4, 2, 1]
    assert result["status"] == "ok" and result["batch_size_reduced_from"] == 4 and result["batch_size"] == 1
