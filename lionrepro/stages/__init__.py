"""The top floor: the command line (`cli`) and one thin module per stage, which parses arguments and calls the wings.
May import every wing; no wing imports a stage, and a stage never imports another stage (`options` is shared code)."""
