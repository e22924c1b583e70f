"""One module per language, each holding a single ``SPEC`` dict (see ``..spec``)."""
