"""Latency and training cost of the full-size architectures, timed side by side on one device.
May import asr (the architectures), corpora, the paper's numbers and the ground floor; never claims, report, stages."""
