"""Lion-12: a synthetic stand-in for the paper's 12 corpora, small enough to build and train on 2 CPU cores.

One dataset per Table 1 row, with the same name and language and sizes proportional to Table 1 (so the imbalance
Algorithm 1 must fix is there), text generated per language (`text`), speech synthesised in-process with eSpeak NG
(`synth`) in a voice pool and speaking style per dataset (`voices`), laid out by `plan` and built and cached by
`build`. The `data` stage (`lionrepro data --profile tiny`) is its entry point.
"""
