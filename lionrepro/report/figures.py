"""The notebooks' figures, drawn with matplotlib from `figure_data` only: the paper's release figure regenerated from
its tables, our counterpart one panel per source, Table 2 per benchmark and language, Algorithm 1's training mix,
training curves, and speed and cost beside Tables 3 and 4.

Rules every figure keeps: a panel says whose numbers it holds (the paper's, or ours with profile and device); the
paper's numbers and ours share an axis only when every bar says whose it is; every figure's footer names the files it
read (path, device, commit); a bar of a tiny run is its mean over the run's seeds, with an error bar of ± one
sample standard deviation (none for the base's one evaluation). `show` displays a figure in a notebook with its name,
which `lionrepro report` uses to write it as a PNG.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lionrepro import paper  # noqa: E402
from lionrepro.languages import LANGUAGES  # noqa: E402
from lionrepro.report import figure_data as data  # noqa: E402

PAPER_COLOR, OURS_COLOR, HIGHLIGHT = "#9aa7b8", "#d9822b", "#2f6db5"
RUN_COLORS = {"base": "#9aa7b8", "recipe": "#d9822b", "natural": "#6a9f58", "tags": "#8e6bbf", "control": "#c4a35a"}
FIGURE_KEY = "lionrepro_figure"  # display metadata key that names a figure for `lionrepro report`
plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 10})


def _footer(fig: Figure, paths: list[str]) -> None:
    """Name the files a figure was drawn from, with where and by which commit each was made."""
    lines = [data.READ[p].short() if p in data.READ else p for p in paths]
    fig.text(0.01, 0.005, "from: " + "; ".join(lines), fontsize=6.5, color="#555555", va="bottom", wrap=True)


def show(fig: Figure, name: str) -> None:
    """Display `fig` as a PNG carrying its sources in its metadata, named for `lionrepro report`; then close it."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    sources = "; ".join(source.short() for source in data.READ.values())
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Title": name, "Description": sources})
    plt.close(fig)
    display(Image(data=buffer.getvalue()), metadata={FIGURE_KEY: name})


def _literal(text: str) -> str:
    """Text that prints its dollar signs, which matplotlib would otherwise read as math between a pair of them."""
    return text.replace("$", r"\$")


def _short(device: str) -> str:
    """'cuda: NVIDIA H200 x1' or 'NVIDIA H200' -> 'H200'."""
    return device.removeprefix("cuda: ").removeprefix("NVIDIA ").removesuffix(" x1")


def _text_panel(ax, text: str, title: str = "") -> None:
    """A panel whose source has no results yet: its title, and what would make them."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=7.5, transform=ax.transAxes, color="#555555")


def _spread(run: dict[str, Any], key: str, columns: list[str] | None = None) -> Any:
    """A run's sample standard deviation over seeds of `key` (of each of its `columns`), NaN (no error bar) for the
    base's one evaluation or a value a seed lacks."""
    sd = (run["sd"] or {}).get(key)
    if columns is None:
        return math.nan if sd is None else sd
    return [math.nan if sd is None or sd.get(c) is None else sd[c] for c in columns]


def _barh(
    ax, labels: list[str], values: list[float], texts: list[str], colors: list[str], errors: list[float] | None = None
) -> None:
    """Horizontal bars with their texts, and error bars of ± `errors` where given (NaN: none)."""
    positions = range(len(labels))
    ax.barh(list(positions), values, color=colors, xerr=errors, capsize=3, error_kw={"elinewidth": 0.8})
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ends = [v + (0 if math.isnan(e) else e) for v, e in zip(values, errors, strict=True)] if errors else values
    for y, end, text in zip(positions, ends, texts, strict=True):  # the text beyond the error bar
        ax.text(end, y, f" {text}", va="center", fontsize=8)
    ax.margins(x=0.25)
    ax.spines[["top", "right"]].set_visible(False)


# --- 1. the release figure and our counterpart ------------------------------------------------------------------------


def release_figure() -> Figure:
    """ "ASR Model Comparison" redrawn from Tables 2 and 3; where the figure prints another number, the bar says so."""
    checks = {(row["panel"], row["figure label"]): row for row in data.release_figure_check()}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    panels = (
        ("error", "Error rate (paper, Table 2)", "average WER/CER over 12 test sets (%), lower is better", "{:.2f}%"),
        (
            "speed",
            "Speed (paper, Table 3)",
            "inference time (s/sample) on one RTX PRO 4500, lower is better",
            "{:.4f} s",
        ),
    )
    for ax, (panel, title, xlabel, form) in zip(axes, panels, strict=True):
        bars = data.release_figure_bars(panel)
        texts = []
        for label, _, value in bars:
            check = checks[(panel, label)]
            note = "" if check["check"] == "agrees" else f"  (figure prints {check['figure prints']}: {check['check']})"
            texts.append(form.format(value) + note)
        colors = [HIGHLIGHT if label.startswith("Polyglot-Lion") else PAPER_COLOR for label, _, _ in bars]
        _barh(ax, [f"{label} ({size})" for label, size, _ in bars], [v for _, _, v in bars], texts, colors)
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
    fig.suptitle("ASR Model Comparison, regenerated from the paper's Tables 2 and 3 (Polyglot-Lion in blue)")
    _footer(fig, [p for p in data.READ if "paper_data" in p])
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def our_counterpart() -> Figure:
    """One panel per source of ours: paper-profile evaluations (when they exist), the tiny runs, the H200 latency."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    used = [data.paper_source("table2").path, data.paper_source("table3").path]

    evaluated = data.paper_profile_evaluations()
    if evaluated:
        labels, values, texts, colors = [], [], [], []
        for model, (path, results) in evaluated.items():
            ours = results["evalkit_normaliser"]["average_12"]
            for whose, value, color in (
                ("paper", float(paper.error_row(model).avg), PAPER_COLOR),
                ("ours", ours, OURS_COLOR),
            ):
                if value is None:
                    continue
                labels.append(f"{model} ({whose})")
                values.append(value)
                texts.append(f"{whose} {value:.2f}")
                colors.append(color)
            used.append(str(path))
        _barh(axes[0], labels, values, texts, colors)
        axes[0].set_xlabel("average WER/CER over 12 test sets (%)")
        device = next(iter(evaluated.values()))[1]["provenance"]["device"]
        axes[0].set_title(f"paper profile: released checkpoints on the real test sets ({device})", loc="left")
    else:
        _text_panel(
            axes[0],
            "no results yet:\n`lionrepro --profile paper evaluate --model ID`\non a GPU writes them to\n"
            "results/paper/evaluate/ (REPRODUCE.md, Table 2)",
            "ours, paper profile: released checkpoints, real test sets",
        )

    summary = data.experiments()
    if summary:
        runs = summary["runs"]
        names = [name for name in runs if runs[name]["average_12"] is not None]
        values = [runs[name]["average_12"] for name in names]
        errors = [_spread(runs[name], "average_12") for name in names]
        texts = [f"{v:.1f}" + ("" if math.isnan(e) else f" ± {e:.1f}") for v, e in zip(values, errors, strict=True)]
        _barh(axes[1], names, values, texts, [RUN_COLORS.get(n, OURS_COLOR) for n in names], errors)
        axes[1].set_xlabel(
            f"average WER/CER over Lion-12's 12 synthetic test sets (%): mean ± sd over seeds {_seeds(summary)}"
        )
        prov = summary["provenance"]
        axes[1].set_title(f"ours, tiny profile: small Qwen3-ASR, Lion-12 ({prov['device']})", loc="left")
        used.append(str(data.experiments_path()))
    else:
        _text_panel(axes[1], "tiny profile: no experiments yet\n\n`lionrepro experiments` writes them")

    levers = data.decode_levers()
    if levers:
        labels, values, texts, colors = [], [], [], []
        for model in levers["models"].values():
            ok = {lever: e for lever, e in model["levers"].items() if e["status"] == "ok"}
            table3 = float(paper.latency_row(model["paper_model"]).mean_s)
            fastest = min(ok, key=lambda lever: ok[lever]["latency_s"]["mean"])
            for whose, value, color in (
                ("paper, RTX PRO 4500, trained", table3, PAPER_COLOR),
                (f"ours, {_short(levers['device_name'])}, generate", ok["generate"]["latency_s"]["mean"], OURS_COLOR),
                (f"ours, {_short(levers['device_name'])}, {fastest}", ok[fastest]["latency_s"]["mean"], "#a85d16"),
            ):
                labels.append(f"{model['paper_model']}: {whose}")
                values.append(value)
                texts.append(f"{value:.3f} s")
                colors.append(color)
        _barh(axes[2], labels, values, texts, colors)
        axes[2].tick_params(axis="y", labelsize=7)
        axes[2].set_xlabel("s/sample, batch 1, Table 3's protocol (lower is better)")
        axes[2].set_title(f"latency: the architectures with random weights ({levers['device_name']})", loc="left")
        used += [p for p in data.READ if p.endswith("decode_cuda.json")]
    else:
        _text_panel(axes[2], "no GPU decode measurements: benchmarks/gpu.sh on a GPU makes them")
    fig.suptitle("Our counterpart, one panel per source (the paper's numbers appear only on bars that say 'paper')")
    _footer(fig, used)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# --- 2. Table 2 per benchmark and per language ------------------------------------------------------------------------

TABLE2_MODELS = (
    "Polyglot-Lion-1.7B",
    "Polyglot-Lion-0.6B",
    "MERaLiON-2-10B-ASR",
    "Qwen3-ASR-1.7B",
    "Whisper-large-v3-turbo",
)
TABLE2_COLORS = dict(zip(TABLE2_MODELS, ("#2f6db5", "#7fa6d9", "#c0504d", "#9aa7b8", "#6a9f58"), strict=True))


def _seeds(summary: dict[str, Any]) -> str:
    return ", ".join(map(str, summary["seeds"]))


def _grouped(
    ax,
    groups: list[str],
    series: dict[str, list[float | None]],
    colors: dict[str, str],
    errors: dict[str, list[float]] | None = None,
) -> None:
    """Bars grouped per `groups`, one series beside the other, with error bars of ± `errors[name]` where given."""
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [v if v is not None else 0 for v in values], width, label=name, color=colors.get(name),
               yerr=(errors or {}).get(name), capsize=2, error_kw={"elinewidth": 0.8})  # fmt: skip
    ax.set_xticks(range(len(groups)), groups)
    ax.spines[["top", "right"]].set_visible(False)


def table2_languages() -> Figure:
    """The paper's Table 2 averaged per language for the models the claims compare: the view the 12-set average
    hides (Tamil), and the tiny runs' per-language errors on their own axes."""
    averages = data.paper_language_averages()
    summary = data.experiments()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    names = [data.language_name(code) for code in LANGUAGES]
    _grouped(axes[0], names, {m: [averages[m][c] for c in LANGUAGES] for m in TABLE2_MODELS}, TABLE2_COLORS)
    axes[0].set_ylabel("mean WER/CER of the language's test sets (%)")
    axes[0].set_title("paper, Table 2: per-language means (CER for Mandarin, WER otherwise)", loc="left")
    axes[0].legend(fontsize=7)
    used = ["lionrepro/paper_data/table2_error_rates.csv"]
    if summary:
        runs = summary["runs"]
        means = {n: [runs[n]["languages"].get(c) for c in LANGUAGES] for n in runs}
        _grouped(axes[1], names, means, RUN_COLORS, {n: _spread(runs[n], "languages", list(LANGUAGES)) for n in runs})
        axes[1].set_ylabel("mean WER/CER of the language's Lion-12 test sets (%)")
        device = summary["provenance"]["device"]
        axes[1].set_title(
            f"ours, tiny profile on Lion-12 ({device}): mean ± sd over seeds {_seeds(summary)}", loc="left"
        )
        axes[1].legend(fontsize=7)
        used.append(str(data.experiments_path()))
    else:
        _text_panel(axes[1], "no tiny experiments yet: `lionrepro experiments`")
    fig.suptitle("Table 2 per language: the paper's models (left) and our tiny runs (right), separate axes")
    _footer(fig, used)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def table2_benchmarks() -> Figure:
    """Table 2's 12 cells: the paper's rows (top) and ours on Lion-12's same-named synthetic sets (bottom)."""
    columns = [b.column for b in paper.BENCHMARKS]
    fig, axes = plt.subplots(2, 1, figsize=(13, 7.5))
    _grouped(axes[0], columns, {m: list(data.paper_cells(m).values()) for m in TABLE2_MODELS}, TABLE2_COLORS)
    axes[0].set_ylabel("WER/CER (%)")
    axes[0].set_title("paper, Table 2: the 12 real test sets", loc="left")
    axes[0].legend(fontsize=7, ncols=3)
    used = ["lionrepro/paper_data/table2_error_rates.csv"]
    summary = data.experiments()
    if summary:
        runs = summary["runs"]
        means = {n: [runs[n]["benchmarks"].get(c) for c in columns] for n in runs}
        _grouped(axes[1], columns, means, RUN_COLORS, {n: _spread(runs[n], "benchmarks", columns) for n in runs})
        axes[1].set_ylabel("WER/CER (%)")
        axes[1].set_title(
            f"ours, tiny profile: Lion-12's synthetic test sets of the same names ({summary['provenance']['device']}); "
            f"mean ± sd over seeds {_seeds(summary)}",
            loc="left",
        )
        axes[1].legend(fontsize=7, ncols=5)
        used.append(str(data.experiments_path()))
    else:
        _text_panel(axes[1], "no tiny experiments yet: `lionrepro experiments`")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    _footer(fig, used)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def table2_cells() -> Any:
    """Table 2's cells as a DataFrame: the paper's Polyglot-Lion-1.7B and MERaLiON rows, then each paper-profile
    evaluation and each tiny run on Lion-12 (its mean over seeds, then their sample sd; the base's one evaluation),
    every row saying whose it is."""
    import pandas as pd

    columns = [b.column for b in paper.BENCHMARKS]
    rows = {}
    for model in ("Polyglot-Lion-1.7B", "MERaLiON-2-10B-ASR"):
        row = paper.error_row(model)
        rows[f"paper: {model} (real test sets)"] = [float(row.cells[c]) for c in columns] + [float(row.avg)]
    for model, (_, results) in data.paper_profile_evaluations().items():
        evalkit = results["evalkit_normaliser"]
        rows[f"ours, paper profile: {model}"] = [evalkit["benchmarks"].get(c) for c in columns] + [
            evalkit["average_12"]
        ]
    summary = data.experiments()
    for name, run in (summary or {}).get("runs", {}).items():
        means = [run["benchmarks"].get(c) for c in columns] + [run["average_12"]]
        if run["sd"] is None:
            rows[f"ours, tiny: {name} (Lion-12, one evaluation)"] = means
            continue
        over = f"over seeds {', '.join(run['seeds'])}"
        rows[f"ours, tiny: {name} (Lion-12, mean {over})"] = means
        rows[f"ours, tiny: {name} (Lion-12, sd {over})"] = [
            *_spread(run, "benchmarks", columns),
            _spread(run, "average_12"),
        ]
    return pd.DataFrame.from_dict(rows, orient="index", columns=[*columns, "avg"]).round(2)


# --- 3. Algorithm 1 ---------------------------------------------------------------------------------------------------


def training_mix(seed: int = 0) -> Figure:
    """Table 1's training split per language, stacked by dataset: as published, and after Algorithm 1 under each
    reading of the Stage-1 size (the paper does not say which it ran)."""
    mix = data.training_mix(seed)
    fig, axes = plt.subplots(1, len(mix), figsize=(4.3 * len(mix), 4.6), sharey=False)
    names = [data.language_name(code) for code in LANGUAGES]
    cmap = plt.get_cmap("tab20")
    datasets = sorted({dataset for counts in mix.values() for _, dataset in counts})
    colors = {dataset: cmap(i) for i, dataset in enumerate(datasets)}
    for ax, (title, counts) in zip(axes, mix.items(), strict=True):
        bottoms = [0] * len(LANGUAGES)
        for dataset in datasets:
            heights = [counts.get((code, dataset), 0) for code in LANGUAGES]
            ax.bar(names, [h / 1e3 for h in heights], bottom=[b / 1e3 for b in bottoms], color=colors[dataset],
                   label=dataset, edgecolor="white", linewidth=0.5)  # fmt: skip
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        total = sum(bottoms)
        for x, b in enumerate(bottoms):
            ax.text(x, b / 1e3, f"{100 * b / total:.1f}%", ha="center", va="bottom", fontsize=8)
        ax.set_title(f"{title}\n{total:,} utterances", loc="left")
        ax.set_ylim(top=max(bottoms) / 1e3 * 1.12)
        ax.set_ylabel("training utterances (thousands)")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    fig.suptitle(f"Algorithm 1 on Table 1's training split (paper's counts; our Algorithm 1, seed {seed})")
    _footer(fig, ["lionrepro/paper_data/table1_datasets.csv"])
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def language_effect() -> Figure:
    """The tiny runs' error per language: bars the mean over each run's seeds with ± one sample sd, black dots each
    seed (the base: its one evaluation), so that a difference between runs can be read against the seeds' spread."""
    summary = data.experiments()
    fig, ax = plt.subplots(figsize=(11, 4.6))
    if not summary:
        _text_panel(ax, "no tiny experiments yet: `lionrepro experiments`")
        return fig
    runs = summary["runs"]
    names = [data.language_name(code) for code in LANGUAGES]
    means = {n: [runs[n]["languages"].get(c) for c in LANGUAGES] for n in runs}
    _grouped(ax, names, means, RUN_COLORS, {n: _spread(runs[n], "languages", list(LANGUAGES)) for n in runs})
    width, xs, ys = 0.8 / len(runs), [], []
    for i, run in enumerate(runs.values()):
        for scores in run["seeds"].values():
            xs += [g + (i - (len(runs) - 1) / 2) * width for g in range(len(LANGUAGES))]
            ys += [scores["languages"].get(c, math.nan) for c in LANGUAGES]
    ax.scatter(xs, ys, color="black", s=10, zorder=3, label="each seed")
    ax.set_ylabel("mean WER/CER of the language's Lion-12 test sets (%)")
    ax.set_title(
        f"ours, tiny profile ({summary['provenance']['device']}): bars the mean ± sd over seeds {_seeds(summary)}, "
        "dots each seed (the base: its one evaluation)",
        loc="left",
    )
    ax.legend(fontsize=7, ncols=3)
    _footer(fig, [str(data.experiments_path())])
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# --- 4. training curves ---------------------------------------------------------------------------------------------


def training_curves() -> Figure:
    """Training loss against step: the tiny base's pretraining (left) and each fine-tune of the experiments at each
    seed (right: a run's colour, one line style per seed)."""
    curves = data.training_curves()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    for ax, group, title in (
        (axes[0], [c for c in curves if c.seed is None], "the tiny base: pretraining on en, zh, ms (with tags)"),
        (axes[1], [c for c in curves if c.seed is not None], "fine-tunes from the base, each seed (tiny profile)"),
    ):
        if not group:
            _text_panel(ax, "no curve yet")
            continue
        for c in group:
            style = "-" if c.seed is None else ("-", "--", ":", "-.")[c.seed % 4]
            ax.plot([p["step"] for p in c.points], [p["loss"] for p in c.points], label=c.label,
                    color=RUN_COLORS.get(c.run), linestyle=style, linewidth=1.2 if c.seed is None else 0.8)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("training loss (cross-entropy per token, log scale)")
        ax.set_title(f"ours: {title}", loc="left")
        ax.legend(fontsize=6, ncols=2)
        ax.spines[["top", "right"]].set_visible(False)
    sources = [p for p in data.READ if p.endswith("curve.jsonl")]
    _footer(fig, sources)
    # the footer names every curve (13 files with three seeds): keep its lines clear of the axes' labels
    fig.tight_layout(rect=(0, min(0.3, 0.04 + 0.011 * len(sources)), 1, 1))
    return fig


# --- 5. speed and cost ----------------------------------------------------------------------------------------------


def latency_beside_table3() -> Figure:
    """Table 3's s/sample beside ours: each GPU lever under Table 3's protocol, and the older fixed-length runs."""
    levers = data.decode_levers()
    speed = data.newest("speed")
    data.paper_source("table3")
    fig, ax = plt.subplots(figsize=(11, 6))
    labels, values, texts, colors = [], [], [], []
    models = list((levers or {}).get("models", {}))
    for name in models:
        model = levers["models"][name]
        row = paper.latency_row(model["paper_model"])
        labels.append(f"{row.model}: paper (RTX PRO 4500, trained weights)")
        values.append(float(row.mean_s))
        texts.append(f"{row.mean_s} ± {row.std_s} s")
        colors.append(PAPER_COLOR)
        for lever, entry in model["levers"].items():
            if entry["status"] != "ok":
                continue
            labels.append(f"{row.model}: ours, {_short(levers['device_name'])}, {lever}, Table 3's protocol")
            values.append(entry["latency_s"]["mean"])
            texts.append(f"{entry['latency_s']['mean']:.3f} ± {entry['latency_s']['std']:.3f} s")
            colors.append(OURS_COLOR)
        if speed and name in speed[1]["models"] and speed[1]["models"][name].get("status") == "ok":
            entry = speed[1]["models"][name]
            tokens = speed[1]["settings"]["new_tokens"]
            labels.append(f"{row.model}: ours, {_short(speed[1]['provenance']['device'])}, generate, {tokens} tokens")
            values.append(entry["latency_s"]["mean"])
            texts.append(f"{entry['latency_s']['mean']:.3f} s")
            colors.append("#e8b27c")
    if not labels:
        _text_panel(ax, "no GPU measurements: benchmarks/gpu.sh on a GPU makes them")
        return fig
    _barh(ax, labels, values, texts, colors)
    ax.set_xscale("log")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("seconds per sample, batch 1 (log scale, lower is better)")
    ax.set_title("Table 3 (grey: paper) beside our latency of the same architectures with random weights", loc="left")
    _footer(fig, [p for p in data.READ if "decode_cuda" in p] + ([str(speed[0])] if speed else []))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def decode_floor() -> Figure:
    """Per-token decode time of each lever against the decoder's weight-bandwidth floor (bytes / published GB/s)."""
    levers = data.decode_levers()
    fig, ax = plt.subplots(figsize=(11, 4.8))
    if not levers:
        _text_panel(ax, "no GPU decode measurements: benchmarks/gpu.sh on a GPU makes them")
        return fig
    labels, values, texts, floors = [], [], [], []
    for model in levers["models"].values():
        floor = model["floor_per_token_s"].get("published", model["floor_per_token_s"]["measured_copy"])
        for lever, entry in model["levers"].items():
            if entry["status"] != "ok":
                continue
            labels.append(f"{model['paper_model']}: {lever}")
            values.append(entry["per_token_s"] * 1e3)
            texts.append(f"{entry['per_token_s'] * 1e3:.2f} ms = {entry['per_token_s'] / floor:.1f}x floor")
            floors.append(floor * 1e3)
    _barh(ax, labels, values, texts, [OURS_COLOR] * len(values))
    ax.scatter(floors, range(len(floors)), marker="|", s=300, color="black", zorder=3, label="bandwidth floor")
    ax.set_xscale("log")
    ax.set_xlabel("ms per generated token, batch 1 (log scale); black tick: decoder bytes / published bandwidth")
    ax.set_title(f"ours: decode time against the bandwidth floor ({levers['device_name']})", loc="left")
    ax.legend(fontsize=7, loc="lower right")
    _footer(fig, [p for p in data.READ if "decode_cuda" in p])
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def cost_beside_table4() -> Figure:
    """Table 4 (left, the paper's) beside our projection for Table 1's training split (right, every cost run)."""
    runs = [run for run in data.measured("cost") if run[1].get("device_type") == "cuda"] or data.measured("cost")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.3), gridspec_kw={"width_ratios": [1, 1.4]})
    rows = paper.table4()
    data.paper_source("table4")
    _barh(axes[0], [f"{r.system} ({r.hardware}, {r.training_time_hours} h)" for r in rows],
          [float(r.estimated_cost_usd) for r in rows], [f"${r.estimated_cost_usd:,}" for r in rows],
          [HIGHLIGHT if r.system == "Polyglot-Lion" else PAPER_COLOR for r in rows])  # fmt: skip
    axes[0].set_xscale("log")
    axes[0].set_xlabel("estimated training cost (US$, log scale)")
    axes[0].set_title("paper, Table 4", loc="left")
    if runs:
        ours = next(r for r in rows if r.system == "Polyglot-Lion")
        gpu_hours = float(ours.gpu_count * ours.training_time_hours)
        labels = [f"Polyglot-Lion: paper, all training ({ours.hardware})"]
        values, texts, colors = [gpu_hours], [f"{gpu_hours:g} GPU-h = ${ours.estimated_cost_usd}"], [HIGHLIGHT]
        for path, run in runs:
            for model in run["models"].values():
                if model.get("status") != "ok":
                    continue
                projection = model["projection"]
                labels.append(f"{model['paper_model']}: ours, one epoch, {path.parent.name}")
                values.append(projection["gpu_hours_per_epoch"])
                texts.append(f"{projection['gpu_hours_per_epoch']:.2f} GPU-h = ${projection['usd_per_epoch']:.2f}")
                colors.append(OURS_COLOR)
        _barh(axes[1], labels, values, texts, colors)
        axes[1].set_xscale("log")
        rate = runs[-1][1]["models"][next(iter(runs[-1][1]["models"]))].get("price_source", "")
        axes[1].set_xlabel(
            f"GPU-hours (log scale); ours: one epoch of Table 1's train split ({runs[-1][1]['train_split_hours']:g} h)"
            f" on {_short(runs[-1][1]['device_name'])}\npriced at {_literal(rate)}"
        )
        axes[1].set_title("the paper's training time (blue) beside our projection (orange)", loc="left")
    else:
        _text_panel(axes[1], "no cost measurements: `lionrepro cost` or benchmarks/gpu.sh")
    _footer(fig, ["lionrepro/paper_data/table4_cost.csv", *[str(p) for p, _ in runs]])
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
