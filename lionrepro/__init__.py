"""lionrepro: a replication harness for Polyglot-Lion (arXiv 2603.16184).

The package stays light to import: stages pull in torch, transformers or jiwer only when they run, so the GPU
measurement script and the paper-arithmetic checks work with whatever subset of dependencies a machine has.
"""

__version__ = "0.1.0"
