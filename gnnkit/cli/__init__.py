"""The ``gnnkit`` command line."""
