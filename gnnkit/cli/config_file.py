"""``--config FILE``: a command's options read from a JSON file, explicit options winning.

The file holds one object of option names (the ``dest``: ``--ffn-hidden`` is ``ffn_hidden``)
and values, as ``gnnkit mol hpopt`` writes in ``best_config.json``::

    {"hidden": 400, "depth": 4, "aggregation": "sum", "max_lr": 0.002, "target_columns": ["y"]}

Each value becomes the option it names (a list: several values; ``true``/``false``: the flag or
its ``--no-`` form, for a plain flag the flag or nothing) and goes through the option's own
checks; ``null`` sets the option to ``None``. The file's options come before the command
line's, so an option given on the command line overrides the file. A key that names no option
of the command is an error naming the key and the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

#: Attributes of a parsed command that are no options a file may set.
NOT_OPTIONS = frozenset({"config", "handler", "command"})


class ConfigFileParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose ``--config FILE`` option (added by :func:`add_config_file`)
    supplies options from a JSON file; without that option it parses as usual."""

    _reading: str | None = None

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = sys.argv[1:] if args is None else list(args)
        parsed, extras = super().parse_known_args(args, namespace)
        path = getattr(parsed, "config", None)
        if path is None or self._reading is not None:
            return parsed, extras
        options = {key for key in vars(parsed) if key not in NOT_OPTIONS}
        arguments, nulls = self._file_arguments(path, options)
        self._reading = path
        try:
            self._check(arguments, path)
        finally:
            self._reading = None
        defaults = {name: self.get_default(name) for name in nulls}
        self.set_defaults(**{name: None for name in nulls})
        try:
            return super().parse_known_args([*arguments, *args], namespace)
        finally:
            self.set_defaults(**defaults)

    def _file_arguments(self, path: str, options: set[str]) -> tuple[list[str], list[str]]:
        """The file's options as command-line arguments, and the options it sets to ``None``."""
        try:
            values = json.loads(Path(path).read_text())
        except OSError as error:
            self.error(f"--config {path}: cannot read it: {error.strerror or error}")
        except json.JSONDecodeError as error:
            self.error(f"--config {path}: not valid JSON ({error})")
        if not isinstance(values, dict):
            self.error(f"--config {path}: expected a JSON object of option: value")
        arguments: list[str] = []
        nulls = []
        for key, value in values.items():
            if key not in options:
                self.error(
                    f"--config {path}: unknown key {key!r}: no option --{key.replace('_', '-')} "
                    f"in {self.prog}"
                )
            flag = f"--{key.replace('_', '-')}"
            if value is None:
                nulls.append(key)
            elif isinstance(value, bool):
                arguments += self._switch(key, flag, value)
            elif isinstance(value, list):
                arguments += [flag, *(_text(v) for v in value)]
            else:
                arguments += [flag, _text(value)]
        return arguments, nulls

    def _switch(self, key: str, flag: str, value: bool) -> list[str]:
        """The arguments that set the on/off option ``key`` to ``value``: for a plain flag the
        flag when ``value`` is what it stores, else nothing; otherwise ``--X`` or ``--no-X``."""
        action = next(a for a in self._actions if a.dest == key)
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return [flag] if value == action.const else []
        return [flag if value else f"--no-{key.replace('_', '-')}"]

    def _check(self, arguments: list[str], path: str) -> None:
        """Parse the file's arguments alone, so that an invalid value names the file."""
        _, extras = super().parse_known_args(arguments)
        if extras:
            self.error(f"--config {path}: {' '.join(extras)} is not valid for {self.prog}")

    def error(self, message: str) -> NoReturn:
        if self._reading is not None:
            message = f"--config {self._reading}: {message}"
        super().error(message)


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def add_config_file(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` to a :class:`ConfigFileParser`."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="JSON object of options (e.g. best_config.json of mol hpopt); options given on "
        "the command line override it",
    )
