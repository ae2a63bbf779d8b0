"""The latency machinery: clip lengths like the paper's test sets, the depth extrapolation (exact on a linear
quantity and through `measure_model` on a synthetic cost model), and the results/table schema. No wall-clock time
is asserted anywhere: the real timings are benchmarks."""

from __future__ import annotations

import copy
import statistics

import pytest

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.speed.latency import (
    CHECK_DEPTH,
    FIT_DEPTHS,
    NOT_ON_GPU,
    SpeedSettings,
    UnreliableExtrapolation,
    clip_durations,
    extrapolate,
    extrapolate_time,
    fit_depth,
    latency_ratios,
    linearity_error,
    run_speed,
    speed_table,
)

TINY = architectures.TINY.name


def test_clip_durations_follow_table1_test_split():
    rows = paper.table1()
    means = {round(float(r.hours["test"]) * 3600 / r.samples["test"], 2) for r in rows}
    clips = clip_durations(20)
    assert len(clips) == 20 and set(clips) <= means
    assert clips == clip_durations(20)  # deterministic
    many = clip_durations(5000)
    overall = float(sum(r.hours["test"] for r in rows)) * 3600 / sum(r.samples["test"] for r in rows)
    assert statistics.fmean(many) == pytest.approx(overall, rel=0.01)  # about 5 s, as Table 1 says


def test_fit_is_exact_on_three_depths_and_linearity_is_zero_on_a_line():
    def line(e, d):
        return 0.5 + 0.25 * e + 1.5 * d

    points = {depth: line(*depth) for depth in FIT_DEPTHS}
    assert fit_depth(points) == pytest.approx((0.5, 0.25, 1.5))
    assert extrapolate(points, (24, 28)) == pytest.approx(line(24, 28))
    assert linearity_error(points, (CHECK_DEPTH, line(*CHECK_DEPTH))) == pytest.approx(0.0, abs=1e-12)
    assert linearity_error(points, (CHECK_DEPTH, 2 * line(*CHECK_DEPTH))) == pytest.approx(-0.5)


def test_depth_extrapolation_through_measure_model_on_a_synthetic_cost_model(monkeypatch):
    """`measure_model` with extrapolation, its timings drawn from a known cost model instead of a clock: each clip
    costs c + n_enc * a + n_dec * b seconds (per clip its own c), with a little deterministic noise. The full-depth
    prediction must land on the model's value, and the linearity check must see the noise and no more. The real
    timing of the same machinery is a benchmark (benchmarks/bench_depth_extrapolation.py), never a test."""
    import lionrepro.speed.latency as latency

    clips = 3
    fixed, per_encoder, per_decoder = [0.20, 0.25, 0.30], 0.010, 0.030
    noise = {(1, 1): 1.0, (2, 1): 1.0, (1, 2): 1.0, CHECK_DEPTH: 1.02}  # the check depth reads 2% slow

    def cost(clip: int, depth: tuple[int, int]) -> float:
        return fixed[clip] + depth[0] * per_encoder + depth[1] * per_decoder

    def synthetic(name, settings, depth, log=print):
        return {
            "layers": list(depth),
            "per_clip_s": [cost(i, depth) * noise[depth] for i in range(clips)],
            "batched_s": 4 * cost(0, depth) * noise[depth],
            "batched_audio_s": 10.0,
            "build_s": 0.0,
        }

    monkeypatch.setattr(latency, "measure_depth", synthetic)
    settings = SpeedSettings(models=(TINY,), clips=clips, batch_size=2, batches=1, full_depth=False)
    result = latency.measure_model(TINY, settings, log=lambda _: None)
    full = tuple(result["full_layers"])
    assert result["extrapolated"] is True and full == (4, 4)
    assert result["per_clip_s"] == pytest.approx([cost(i, full) for i in range(clips)])
    assert result["throughput"]["seconds"] == pytest.approx(4 * cost(0, full))
    mean_at_check = statistics.fmean(cost(i, CHECK_DEPTH) for i in range(clips))
    assert result["linearity_rel_error"] == pytest.approx(mean_at_check / (1.02 * mean_at_check) - 1)


def test_a_non_positive_extrapolated_time_is_refused_with_the_timings():
    noisy = {(1, 1): 0.30, (2, 1): 0.10, (1, 2): 0.12}  # a busy CPU made the deeper models look faster
    with pytest.raises(UnreliableExtrapolation, match="too noisy"):
        extrapolate_time(noisy, (24, 28))
    assert extrapolate_time({(1, 1): 0.3, (2, 1): 0.4, (1, 2): 0.5}, (24, 28)) > 0


@pytest.fixture(scope="module")
def tiny_results():
    # Full depth: the schema must not hang on timing noise (the extrapolation is tested above on its own).
    settings = SpeedSettings(models=(TINY,), new_tokens=2, warmup=1, clips=2, batch_size=2, full_depth=True)
    return run_speed(settings, log=lambda _: None)


def test_results_schema(tiny_results):
    assert tiny_results["kind"] == "speed" and tiny_results["device_type"] == "cpu"
    assert set(tiny_results["params"]) == {*architectures.NAMES, TINY}
    model = tiny_results["models"][TINY]
    assert model["status"] == "ok" and model["extrapolated"] is False
    assert model["latency_s"]["n"] == 2 and len(model["per_clip_s"]) == 2
    assert model["throughput"]["rtfx"] > 0
    assert set(tiny_results["ratios"]) == {"meralion_over_qwen3-asr-0.6b", "meralion_over_qwen3-asr-1.7b"}
    assert tiny_results["ratios"]["meralion_over_qwen3-asr-0.6b"]["measured"] is None  # not measured here
    size = tiny_results["size_ratios"]["meralion_over_qwen3-asr-1.7b"]
    assert size["paper_labels"] == pytest.approx(10 / 1.7)


def test_paper_ratios_come_from_table3():
    ratios = latency_ratios({})
    for qwen, polyglot in (("qwen3-asr-0.6b", "Polyglot-Lion-0.6B"), ("qwen3-asr-1.7b", "Polyglot-Lion-1.7B")):
        meralion = paper.latency_row("MERaLiON-2-10B-ASR").mean_s
        ratio = ratios[f"meralion_over_{qwen}"]
        assert ratio["paper_table3"] == float(meralion / paper.latency_row(ratio_model(qwen)).mean_s)
        assert ratio["paper_table3_polyglot_lion"] == float(meralion / paper.latency_row(polyglot).mean_s)


def ratio_model(name: str) -> str:
    return architectures.architecture(name).paper_model


def test_speed_table_says_gpu_not_measured_on_cpu(tiny_results):
    headers, rows = speed_table(tiny_results)
    assert all(len(row) == len(headers) for row in rows)
    assert any(NOT_ON_GPU in row for row in rows)


@pytest.mark.parametrize(("error", "flagged"), [(0.1, False), (-0.3, True)])
def test_speed_table_flags_an_extrapolation_its_check_depth_contradicts(tiny_results, error, flagged):
    results = copy.deepcopy(tiny_results)
    results["models"][TINY] |= {"extrapolated": True, "linearity_rel_error": error}
    depth = speed_table(results)[1][0][5]
    assert depth.startswith("extrapolated") and ("unreliable" in depth) is flagged


def test_a_failing_model_is_recorded_not_fatal(monkeypatch):
    import lionrepro.speed.latency as speed

    def boom(*args, **kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(speed, "measure_model", boom)
    results = run_speed(SpeedSettings(models=(TINY, "whisper-large-v3-turbo")), log=lambda _: None)
    assert [m["status"] for m in results["models"].values()] == ["error", "error"]
    assert "simulated" in results["models"][TINY]["error"]
    headers, rows = speed_table(results)
    assert rows[0][3].startswith("error")
