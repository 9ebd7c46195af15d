"""Errors that gnnkit raises for a user's files or downloads, importable without torch (the
command line reports them in one line; see :mod:`gnnkit.cli.errors`)."""


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be trusted or understood."""


class DownloadError(RuntimeError):
    """A download that failed; the message names the URL and the offline alternative."""
