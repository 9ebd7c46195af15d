"""The search space of ``gnnkit mol hpopt``: which settings it tunes, in what ranges, and the
JSON file (``--search-space``) that replaces the default space.

Pure Python: the command line validates a search-space file before torch is imported.

Schema of a search-space file: one object whose keys are ``mol train`` option names (with
``_`` for ``-``) among :data:`TUNABLE` and whose values describe a dimension::

    {
      "hidden":      {"type": "int", "low": 100, "high": 600, "step": 100},
      "depth":       {"type": "int", "low": 2, "high": 6},
      "dropout":     {"type": "float", "low": 0.0, "high": 0.4},
      "max_lr":      {"type": "float", "low": 1e-4, "high": 1e-2, "log": true},
      "aggregation": {"type": "categorical", "choices": ["norm", "mean", "sum"]}
    }

``int`` and ``float`` take ``low`` and ``high`` (both included) and either ``step`` or
``log`` (sample ``log x`` uniformly; ``low`` > 0); ``categorical`` takes a non-empty list of
``choices``. A setting the file leaves out keeps the value of its command-line option.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gnnkit.choices import AGGREGATIONS

Kind = Literal["int", "float", "str"]
DIMENSION_TYPES = ("int", "float", "categorical")


@dataclass(frozen=True, slots=True)
class Tunable:
    """A setting the search may tune: the :class:`MoleculeTrainConfig` field it sets (or, with
    ``train``, the :class:`TrainConfig` field), its value type and its valid values (at least
    ``minimum``, or above it with ``open_minimum``; below ``below`` when given; among
    ``choices`` when given)."""

    field: str
    kind: Kind
    train: bool = False
    minimum: float | None = None
    open_minimum: bool = False
    below: float | None = None
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not a valid setting (``None`` when it is)."""
        if self.kind == "str":
            return None if value in self.choices else f"expected one of {list(self.choices)}"
        expected = int if self.kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, expected):
            return f"expected {'an integer' if self.kind == 'int' else 'a number'}"
        if self.minimum is not None and self.open_minimum and value <= self.minimum:
            return f"must be above {self.minimum:g}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}"
        if self.below is not None and value >= self.below:
            return f"must be below {self.below:g}"
        return None


#: Settings the search may tune, by ``mol train`` option name.
TUNABLE = {
    "hidden": Tunable("hidden_channels", "int", minimum=1),
    "depth": Tunable("depth", "int", minimum=1),
    "dropout": Tunable("dropout", "float", minimum=0.0, below=1.0),
    "ffn_layers": Tunable("ffn_layers", "int", minimum=0),
    "ffn_hidden": Tunable("ffn_hidden_channels", "int", minimum=1),
    "aggregation": Tunable("aggregation", "str", choices=AGGREGATIONS),
    "batch_size": Tunable("batch_size", "int", train=True, minimum=1),
    "init_lr": Tunable("init_lr", "float", train=True, minimum=0.0, open_minimum=True),
    "max_lr": Tunable("max_lr", "float", train=True, minimum=0.0, open_minimum=True),
    "final_lr": Tunable("final_lr", "float", train=True, minimum=0.0, open_minimum=True),
}


@dataclass(frozen=True, slots=True)
class Dimension:
    """One tuned setting: ``name`` (a key of :data:`TUNABLE`) and its range or choices."""

    name: str
    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Draw this dimension's value from an ``optuna.Trial``."""
        if self.type == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.type == "int":
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def to_dict(self) -> dict[str, Any]:
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices)}
        extra = {"step": self.step} if self.step is not None else {"log": True} if self.log else {}
        return {"type": self.type, "low": self.low, "high": self.high, **extra}


#: The default space: chemprop's ranges for the architecture, narrowed for a CPU, and the
#: learning rates of its one-cycle schedule, each on a log scale.
DEFAULT_SPACE = (
    Dimension("hidden", "int", 100, 600, step=100),
    Dimension("depth", "int", 2, 6),
    Dimension("dropout", "float", 0.0, 0.4, step=0.05),
    Dimension("ffn_layers", "int", 1, 3),
    Dimension("ffn_hidden", "int", 100, 600, step=100),
    Dimension("aggregation", "categorical", choices=AGGREGATIONS),
    Dimension("batch_size", "categorical", choices=(16, 32, 64, 128)),
    Dimension("init_lr", "float", 1e-5, 1e-3, log=True),
    Dimension("max_lr", "float", 1e-4, 1e-2, log=True),
    Dimension("final_lr", "float", 1e-5, 1e-3, log=True),
)


def parse_space(spec: Any, source: str = "the search space") -> tuple[Dimension, ...]:
    """The dimensions of a search-space object (see the module docstring); ``ValueError``
    naming ``source`` and the parameter on anything invalid."""
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"{source}: expected a non-empty JSON object of parameter: dimension")
    return tuple(_dimension(name, entry, source) for name, entry in spec.items())


def read_space(path: str | Path) -> tuple[Dimension, ...]:
    """The dimensions of a search-space JSON file."""
    try:
        spec = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    return parse_space(spec, str(path))


def _dimension(name: str, entry: Any, source: str) -> Dimension:
    where = f"{source}: parameter {name!r}"
    if name not in TUNABLE:
        raise ValueError(f"{where} cannot be tuned; tunable parameters: {', '.join(TUNABLE)}")
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object with a 'type', got {entry!r}")
    kind = entry.get("type")
    if kind not in DIMENSION_TYPES:
        raise ValueError(f"{where}: type must be one of {', '.join(DIMENSION_TYPES)}, got {kind!r}")
    allowed = {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "step"}
    allowed |= {"log"} if kind != "categorical" else set()
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} for type {kind!r}")
    tunable = TUNABLE[name]
    if kind == "categorical":
        choices = entry.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{where}: 'choices' must be a non-empty list")
        _check_values(where, tunable, choices)
        return Dimension(name, "categorical", choices=tuple(choices))
    if tunable.kind == "str":
        raise ValueError(f"{where} takes names; use type 'categorical' with 'choices'")
    if kind == "int" and tunable.kind == "float":
        raise ValueError(f"{where} is a real number; use type 'float'")
    if kind == "float" and tunable.kind == "int":
        raise ValueError(f"{where} is an integer; use type 'int'")
    if "low" not in entry or "high" not in entry:
        raise ValueError(f"{where}: type {kind!r} needs 'low' and 'high'")
    low, high, step, log = entry["low"], entry["high"], entry.get("step"), entry.get("log", False)
    _check_values(where, tunable, [low, high])
    if low > high:
        raise ValueError(f"{where}: low ({low}) is above high ({high})")
    if not isinstance(log, bool):
        raise ValueError(f"{where}: 'log' must be true or false, got {log!r}")
    if step is not None:
        if log:
            raise ValueError(f"{where}: give 'step' or 'log', not both")
        if tunable.check(step) is not None or step <= 0:
            raise ValueError(f"{where}: 'step' must be a positive {tunable.kind}, got {step!r}")
    if log and low <= 0:
        raise ValueError(f"{where}: a log scale needs low > 0, got {low}")
    return Dimension(name, kind, low, high, step, log)


def _check_values(where: str, tunable: Tunable, values: list[Any]) -> None:
    for value in values:
        problem = tunable.check(value)
        if problem is not None:
            raise ValueError(f"{where}: {value!r} is not a valid value: {problem}")


def apply_params(config: Any, params: dict[str, Any]) -> Any:
    """``config`` (a :class:`~gnnkit.workflows.molecules.MoleculeTrainConfig`) with the
    settings ``params`` (``mol train`` option names → values) replaced; validated anew."""
    from dataclasses import replace

    own = {TUNABLE[n].field: v for n, v in params.items() if not TUNABLE[n].train}
    train = {TUNABLE[n].field: v for n, v in params.items() if TUNABLE[n].train}
    return replace(config, **own, train=replace(config.train, **train))
