"""How the ``gnnkit`` command reports errors that a user's input causes.

Every subcommand registers its handler with :func:`set_handler`; ``gnnkit.cli.main`` runs it
and turns the errors listed in :data:`USER_ERRORS` into one line on stderr,
``gnnkit SUBCOMMAND: error: MESSAGE``, with exit status 2 for a :class:`UsageError` (options
that contradict each other, found after parsing) and 1 for anything wrong with the data, files
or checkpoints. Any other exception is a bug and keeps its traceback; ``gnnkit --debug`` keeps
the traceback of user errors too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from gnnkit.errors import CheckpointError, DownloadError

Handler = Callable[[argparse.Namespace], int]


class UsageError(ValueError):
    """Command-line options that are each valid but cannot be used together (exit status 2)."""


#: Errors that a user's input causes: reported in one line, without a traceback.
#: ``ValueError`` covers ``DataFileError``, ``CascadeFormatError`` and option validation;
#: ``OSError`` covers missing, existing, unreadable and permission-denied paths.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    ImportError,
    DownloadError,
    CheckpointError,
)


def set_handler(parser: argparse.ArgumentParser, handler: Handler) -> None:
    """Make ``handler`` run for ``parser``'s subcommand; errors are reported under its name."""
    parser.set_defaults(handler=handler, command=parser.prog)


def exit_status(error: BaseException) -> int:
    """2 for a usage error, 1 for an error in the data, files or checkpoints."""
    return 2 if isinstance(error, UsageError) else 1
