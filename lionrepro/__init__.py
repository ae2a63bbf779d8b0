"""lionrepro: a replication harness for Polyglot-Lion (arXiv 2603.16184).

One wing (sub-package) per concern, stacked as floors from the top:

    stages/ (and cli)  >  report/  >  claims/  >  speed/  >  asr/  >  corpora/  >  paper.py + paper_data/
    >  the ground floor: config.py, profiles/, provenance.py, fingerprints.py, errors.py, languages.py

A module imports only from its own wing or from a floor below it (tests/test_import_direction.py checks it). The
package stays light to import: stages pull in torch, transformers or jiwer only when they run, so the GPU
measurement script and the paper-arithmetic checks work with whatever subset of dependencies a machine has.
"""

__version__ = "0.1.0"
