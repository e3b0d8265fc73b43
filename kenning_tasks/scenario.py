"""Scenarios: validate one concrete scenario mapping and plan its model chain.

A scenario is a YAML or JSON file of Kenning-style blocks, each ``{type, parameters}``:
``dataset``, ``model_wrapper``, ``optimizers`` (ordered list), ``runtime``, ``platform`` and
``protocol``. Validation resolves every block's parameters against its declaration and
negotiates the model formats along the chain; any problem is a one-line ``ScenarioError``
naming the file, the key path and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks import formats, registry
from kenning_tasks.errors import ScenarioError
from kenning_tasks.params import resolve_parameters

TOP_LEVEL = {
    "dataset": True, "model_wrapper": True, "optimizers": False, "runtime": True,
    "platform": False, "protocol": False, "description": False,
    "optimization_parameters": False,
}
DEFAULT_BLOCKS = {"platform": {"type": "HostPlatform"}}


@dataclass(frozen=True)
class BlockConfig:
    """A validated block: its class and fully resolved parameters."""

    family: str
    cls: type
    parameters: dict[str, Any]
    key: str  # key path in the scenario file, e.g. "optimizers[0]"

    @property
    def type_name(self) -> str:
        return self.cls.__name__

    def create(self) -> Any:
        return self.cls(dict(self.parameters))

    def to_dict(self) -> dict[str, Any]:
        return {"type": f"{self.cls.__module__}.{self.cls.__name__}",
                "parameters": self.parameters}


@dataclass(frozen=True)
class Step:
    """One unit of work in the model chain: a format conversion or an optimizer phase."""

    kind: str  # "convert", "quantize" or "compile"
    input_format: str
    output_format: str
    optimizer: int | None = None  # index into Scenario.optimizers for optimizer phases

    def describe(self, scenario: Scenario) -> str:
        if self.optimizer is None:
            return f"convert {self.input_format}→{self.output_format}"
        name = scenario.optimizers[self.optimizer].type_name
        return f"{name}.{self.kind} {self.input_format}→{self.output_format}"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario and its planned model chain."""

    name: str
    path: Path
    dataset: BlockConfig
    model_wrapper: BlockConfig
    optimizers: tuple[BlockConfig, ...]
    runtime: BlockConfig
    platform: BlockConfig
    protocol: BlockConfig | None
    description: str
    # Grid search: the variant id inside its scenario file, its label and the search settings.
    variant: str | None = None
    label: str = ""
    search: dict[str, Any] | None = None
    convert_steps: tuple[Step, ...] = ()
    quantize_steps: tuple[Step, ...] = ()
    compile_steps: tuple[Step, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def final_format(self) -> str:
        for steps in (self.compile_steps, self.quantize_steps, self.convert_steps):
            if steps:
                return steps[-1].output_format
        return self.model_wrapper.cls.FORMAT

    def stage_format(self, stage: str) -> str:
        """Format of the model a chain stage (convert, quantize, compile) writes."""
        order = ("convert", "quantize", "compile")
        fmt = self.model_wrapper.cls.FORMAT
        for name in order[: order.index(stage) + 1]:
            steps = getattr(self, f"{name}_steps")
            if steps:
                fmt = steps[-1].output_format
        return fmt

    def target_stages(self) -> tuple[str, ...]:
        return self.platform.cls.TARGET_STAGES

    def resolved(self) -> dict[str, Any]:
        """The scenario with every default filled in (recorded in measurements)."""
        return {
            "dataset": self.dataset.to_dict(),
            "model_wrapper": self.model_wrapper.to_dict(),
            "optimizers": [o.to_dict() for o in self.optimizers],
            "runtime": self.runtime.to_dict(),
            "platform": self.platform.to_dict(),
            "protocol": self.protocol.to_dict() if self.protocol else None,
        }


class ChainError(ScenarioError):
    """The model formats of neighbouring blocks do not connect."""


def validate(path: Path, name: str, data: dict[str, Any], **fields: Any) -> Scenario:
    """Validate one concrete scenario mapping (no alternatives left in it)."""
    for key in data:
        if key not in TOP_LEVEL:
            raise ScenarioError(f"{path}: {key}: unknown key; allowed: "
                                + ", ".join(TOP_LEVEL))
    for key, required in TOP_LEVEL.items():
        if required and key not in data:
            raise ScenarioError(f"{path}: {key}: missing required block "
                                f"({{type, parameters}})")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{path}: description: expected str, got "
                            f"{type(description).__name__}")
    optimizers_raw = data.get("optimizers") or []
    if not isinstance(optimizers_raw, list):
        raise ScenarioError(f"{path}: optimizers: expected a list of blocks, got "
                            f"{type(optimizers_raw).__name__}")
    protocol = data.get("protocol")
    scenario = Scenario(
        name=name,
        path=path,
        dataset=_block(path, "dataset", "dataset", data["dataset"]),
        model_wrapper=_block(path, "model_wrapper", "model_wrapper", data["model_wrapper"]),
        optimizers=tuple(_block(path, f"optimizers[{i}]", "optimizer", entry)
                         for i, entry in enumerate(optimizers_raw)),
        runtime=_block(path, "runtime", "runtime", data["runtime"]),
        platform=_block(path, "platform", "platform",
                        data.get("platform") or DEFAULT_BLOCKS["platform"]),
        protocol=_block(path, "protocol", "protocol", protocol) if protocol else None,
        description=description,
        raw=data,
        **fields,
    )
    _check_platform(path, scenario)
    return _plan_chain(path, scenario)


def _block(path: Path, key: str, family: str, entry: Any) -> BlockConfig:
    if not isinstance(entry, dict):
        raise ScenarioError(f"{path}: {key}: expected a block {{type, parameters}}, "
                            f"got {type(entry).__name__}")
    for entry_key in entry:
        if entry_key not in ("type", "parameters"):
            raise ScenarioError(f"{path}: {key}.{entry_key}: unknown key; allowed: "
                                "type, parameters")
    type_name = entry.get("type")
    if not isinstance(type_name, str) or not type_name:
        raise ScenarioError(f"{path}: {key}.type: missing; allowed: "
                            + ", ".join(registry.BLOCKS[family]) + " or a dotted class path")
    cls = registry.find_block(family, type_name)
    if cls is None:
        raise ScenarioError(f"{path}: {key}.type: unknown {family} type {type_name!r}; "
                            "allowed: " + ", ".join(registry.BLOCKS[family])
                            + " or a dotted path to a subclass of "
                            + registry.FAMILY_BASES[family].replace(":", "."))
    parameters = resolve_parameters(cls.PARAMETERS, entry.get("parameters"),
                                    f"{path}: {key}.parameters")
    cls.check(parameters, f"{path}: {key}.parameters")
    return BlockConfig(family, cls, parameters, key)


def _check_platform(path: Path, scenario: Scenario) -> None:
    on_target = scenario.runtime.cls.ON_TARGET
    embedded = bool(scenario.target_stages())
    if on_target and not embedded:
        raise ChainError(
            f"{path}: platform.type: runtime {scenario.runtime.type_name} runs on a "
            f"microcontroller and needs an embedded platform, not "
            f"{scenario.platform.type_name}")
    if embedded and not on_target:
        raise ChainError(
            f"{path}: runtime.type: platform {scenario.platform.type_name} runs firmware; "
            f"{scenario.runtime.type_name} is a host runtime (use an on-target runtime)")


def _plan_chain(path: Path, scenario: Scenario) -> Scenario:
    """Negotiate formats along dataset → model → optimizers → runtime and split into stages."""
    native = scenario.model_wrapper.cls.FORMAT
    consumers = [(o.key, o.type_name, o.cls.ACCEPTS) for o in scenario.optimizers]
    consumers.append(("runtime", scenario.runtime.type_name, scenario.runtime.cls.ACCEPTS))
    key, name, accepts = consumers[0]
    convert_to = formats.pick_format(native, accepts)
    if convert_to is None:
        raise ChainError(
            f"{path}: {key}.type: {name} accepts {', '.join(accepts)} but model_wrapper "
            f"{scenario.model_wrapper.type_name} produces {native} and no conversion "
            f"{native}→({'|'.join(accepts)}) exists")
    convert_steps = (Step("convert", native, convert_to),)
    steps: list[Step] = []
    current = convert_to
    previous = f"model_wrapper {scenario.model_wrapper.type_name}"
    for index, optimizer in enumerate(scenario.optimizers):
        current = _connect(path, optimizer.key, optimizer.type_name, optimizer.cls.ACCEPTS,
                           current, previous, steps)
        instance = optimizer.create()
        for phase in optimizer.cls.PHASES:
            out = instance.output_format(phase, current)
            steps.append(Step(phase, current, out, optimizer=index))
            current = out
        previous = f"{optimizer.key} ({optimizer.type_name})"
    _connect(path, "runtime", scenario.runtime.type_name, scenario.runtime.cls.ACCEPTS,
             current, previous, steps)
    last_quantize = max((i for i, s in enumerate(steps) if s.kind == "quantize"), default=-1)
    return _replace(scenario, convert_steps=convert_steps,
                    quantize_steps=tuple(steps[: last_quantize + 1]),
                    compile_steps=tuple(steps[last_quantize + 1:]))


def _connect(path: Path, key: str, name: str, accepts: tuple[str, ...], current: str,
             previous: str, steps: list[Step]) -> str:
    chosen = formats.pick_format(current, accepts)
    if chosen is None:
        raise ChainError(
            f"{path}: {key}.type: {name} accepts {', '.join(accepts)} but {previous} produces "
            f"{current} and no conversion {current}→({'|'.join(accepts)}) exists")
    if chosen != current:
        steps.append(Step("convert", current, chosen))
    return chosen


def _replace(scenario: Scenario, **changes: Any) -> Scenario:
    import dataclasses

    return dataclasses.replace(scenario, **changes)
