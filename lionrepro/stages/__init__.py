"""The CLI's stages: each module parses its own arguments and calls the library; no logic of its own."""
