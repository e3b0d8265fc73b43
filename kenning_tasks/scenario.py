"""Scenarios: validate one concrete scenario mapping and plan its model chain.

A scenario is a YAML or JSON file of Kenning-style blocks, each ``{type, parameters}``:
``dataset``, ``model_wrapper``, ``optimizers`` (ordered list), ``runtime``, ``platform``,
``protocol`` and ``report``. ``type`` is our short name, Kenning's class name or Kenning's
dotted path (``kenning_names``). Validation resolves every block's parameters against its
declaration, negotiates the model formats along the chain, follows the model's numerics to
the runtime (a board runs int8 or float32 kernels; a mix it cannot run is refused here, not
in evaluate) and collects every problem of the file: they are raised together, one line each,
naming the file, the key path and what is allowed.

As in Kenning, ``runtime`` may be omitted: it is derived from the last optimizer's output
format and the platform (``derive_runtime``). ``compiled_model_path``, ``save_model_path`` and
the report's paths are export requests, carried as ``Scenario.exports``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kenning_tasks import formats, kenning_names, registry
from kenning_tasks.ci.gate_specs import Gate
from kenning_tasks.ci.gate_specs import parse as parse_gates
from kenning_tasks.errors import ScenarioError
from kenning_tasks.numerics import FLOAT32, FULL_INT8, Numerics
from kenning_tasks.params import resolve_parameters
from kenning_tasks.problems import Problems, did_you_mean

TOP_LEVEL = {
    "dataset": True, "model_wrapper": True, "optimizers": False, "runtime": False,
    "platform": False, "protocol": False, "report": False, "description": False,
    "optimization_parameters": False, "gates": False,
}
# Kenning's top-level keys this project does not run: one line each.
UNSUPPORTED_KEYS = {
    "runtime_builder": kenning_names.RUNTIME_BUILDER,
    "automl": kenning_names.AUTOML,
    "dataconverter": "Kenning's dataconverter is not supported: the evaluate stage quantizes "
                     "inputs with the model's I/O spec; remove it",
    "inference_loop": "Kenning's inference_loop is not supported: evaluate runs the test split "
                      "sample by sample; remove it",
}
DEFAULT_BLOCKS = {"platform": {"type": "HostPlatform"}, "report": {"type": "MarkdownReport"}}
BLOCK_KEYS = ("dataset", "model_wrapper", "optimizers", "runtime", "platform", "protocol",
              "report")
# Kenning's get_default_runtime: the host runtime for the last optimizer's output format
# (Kenning v0.8.2 has no ONNX entry and falls back to the model wrapper's own inference; here
# the ONNX file is what is evaluated). A model without optimizers runs in its framework.
HOST_RUNTIMES = {"tflite": "TFLiteRuntime", "tvm": "TVMRuntime", "onnx": "ONNXRuntime",
                 "iree": "IREERuntime", "torch": "PyTorchRuntime", "keras": "KerasRuntime"}
# Kenning host runtimes that, on an embedded platform, name the model the board runs.
TARGET_FORMAT_RUNTIMES = {"TFLiteRuntime": "tflite"}


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
class Export:
    """A request to copy an artifact to a user's path after a successful run (Kenning's
    ``compiled_model_path``, ``save_model_path`` and report paths).

    ``artifact`` is relative to the pipeline's build folder (``compile/model.tflite``); None
    when the chain does not keep that model as a file (``note`` says why). ``path`` is as
    written; a relative one starts at the scenario file's folder (``exports.export_path``).
    """

    key: str
    path: str
    artifact: str | None
    note: str = ""


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
    # Kenning's report block (MarkdownReport); it never changes a measurement.
    report: BlockConfig | None = None
    # Export requests, done after a successful run; no stage's signature depends on them.
    exports: tuple[Export, ...] = ()
    # "given", "derived" (runtime omitted) or "platform" (a Kenning host runtime on an
    # embedded platform, run by the board's runtime).
    runtime_source: str = "given"
    numerics: Numerics = FLOAT32  # of the model the runtime runs
    raw: dict[str, Any] = field(default_factory=dict)
    # Quality gates on the measurements (``ci/gate_specs.py``), the on-target defaults included.
    gates: tuple[Gate, ...] = ()

    @property
    def native_format(self) -> str:
        """The format of the train stage's model: a given ``model_path``'s, or the wrapper's."""
        return self.model_wrapper.cls.native_format(self.model_wrapper.parameters)

    @property
    def final_format(self) -> str:
        for steps in (self.compile_steps, self.quantize_steps, self.convert_steps):
            if steps:
                return steps[-1].output_format
        return self.native_format

    def stage_format(self, stage: str) -> str:
        """Format of the model a chain stage (convert, quantize, compile) writes."""
        order = ("convert", "quantize", "compile")
        fmt = self.native_format
        for name in order[: order.index(stage) + 1]:
            steps = getattr(self, f"{name}_steps")
            if steps:
                fmt = steps[-1].output_format
        return fmt

    def model_file(self, stage: str) -> str:
        """Relative path of the model a stage (train, convert, quantize, compile) writes."""
        if stage == "train":
            return "train/" + formats.file_name(self.native_format)
        return f"{stage}/" + formats.file_name(self.stage_format(stage))

    def target_stages(self) -> tuple[str, ...]:
        return self.platform.cls.target_stages(self.platform.parameters)

    @property
    def board(self) -> Any:
        """The platform's board (``mcu.boards.Board``), None on the host."""
        return self.platform.cls.board(self.platform.parameters)

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


def validate(path: Path, name: str, data: dict[str, Any], **fields: Any) -> Scenario:
    """Validate one concrete scenario mapping (no alternatives left in it).

    Every problem of the file is collected; the ScenarioError raised lists them all.
    """
    problems = Problems()
    _check_top_level(problems, path, data)
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.add(f"{path}: description: expected str, got {type(description).__name__}")
    blocks: dict[str, BlockConfig | None] = {}
    optimizers: list[BlockConfig] | None = []
    order = [k for k in data if k in BLOCK_KEYS] + [k for k in ("platform",) if k not in data]
    for key in order:  # in the file's order, so the problems read top to bottom
        if key == "optimizers":
            optimizers = _optimizer_blocks(problems, path, data.get("optimizers"))
            continue
        entry = data.get(key)
        if entry is None and key == "platform":
            entry = DEFAULT_BLOCKS[key]
        if key == "report" and isinstance(entry, dict) and "type" not in entry:
            entry = {**DEFAULT_BLOCKS["report"], **entry}  # Kenning's default report class
        if entry is not None:
            blocks[key] = _block(problems, path, key, key, entry)
    platform_block = blocks.get("platform")
    gates, gate_problems = parse_gates(
        data.get("gates"), f"{path}: gates",
        embedded=platform_block is None or bool(platform_block.cls.TARGET_STAGES))
    for line in gate_problems:
        problems.add(line)
    fields = {**fields, "gates": gates}
    for key in ("dataset", "model_wrapper"):  # files they name must exist now (relative to
        block = blocks.get(key)              # the scenario file): data, a given model_path
        if block is not None:
            try:
                block.cls.check_sources(block.parameters, path.parent, f"{path}: {key}.parameters")
            except ScenarioError as error:
                problems.absorb(error)
    required = (blocks.get("dataset"), blocks.get("model_wrapper"), blocks.get("platform"))
    if any(b is None for b in required) or optimizers is None or (
            "runtime" in blocks and blocks["runtime"] is None):
        problems.raise_if_any()  # the chain cannot be planned without these blocks
    assert optimizers is not None
    scenario = _plan(problems, path, name, description, data, blocks, optimizers, fields)
    problems.raise_if_any()
    assert scenario is not None
    return scenario


def _check_top_level(problems: Problems, path: Path, data: dict[str, Any]) -> None:
    if set(data) == {"report"}:
        problems.add(f"{path}: report: a file with only a report block is Kenning's `kenning "
                     "report` configuration (it renders existing measurement files), not a "
                     "pipeline; nearest: `doit scenario=a,b report` compares pipelines")
        return
    for key in data:
        if key in TOP_LEVEL:
            continue
        if key in UNSUPPORTED_KEYS:
            problems.add(f"{path}: {key}: {UNSUPPORTED_KEYS[key]}")
        else:
            problems.add(f"{path}: {key}: unknown key; allowed: " + ", ".join(TOP_LEVEL)
                         + did_you_mean(str(key), TOP_LEVEL))
    for key, required in TOP_LEVEL.items():
        if required and key not in data:
            problems.add(f"{path}: {key}: missing required block ({{type, parameters}})")


def _optimizer_blocks(problems: Problems, path: Path,
                      raw: Any) -> list[BlockConfig] | None:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(f"{path}: optimizers: expected a list of blocks, got {type(raw).__name__}")
        return None
    result = [_block(problems, path, f"optimizers[{i}]", "optimizer", entry)
              for i, entry in enumerate(raw)]
    return None if any(b is None for b in result) else result  # type: ignore[misc]


def _block(problems: Problems, path: Path, key: str, family: str,
           entry: Any) -> BlockConfig | None:
    """Resolve one block, adding its problems; None when it cannot be resolved."""
    if not isinstance(entry, dict):
        problems.add(f"{path}: {key}: expected a block {{type, parameters}}, "
                     f"got {type(entry).__name__}")
        return None
    for entry_key in entry:
        if entry_key not in ("type", "parameters"):
            problems.add(f"{path}: {key}.{entry_key}: unknown key; allowed: type, parameters"
                         + did_you_mean(str(entry_key), ("type", "parameters")))
    type_name = entry.get("type")
    if not isinstance(type_name, str) or not type_name:
        problems.add(f"{path}: {key}.type: missing; allowed: "
                     + ", ".join(registry.BLOCKS[family]) + " or a dotted class path")
        return None
    cls = _find_class(problems, path, key, family, type_name)
    if cls is None:
        return None
    where = f"{path}: {key}.parameters"
    try:
        parameters = resolve_parameters(cls.PARAMETERS, entry.get("parameters"), where,
                                        renamed=cls.RENAMED)
        cls.check(parameters, where)
    except ScenarioError as error:
        problems.absorb(error)
        return None
    return BlockConfig(family, cls, cls.complete(parameters), key)


def _find_class(problems: Problems, path: Path, key: str, family: str,
                type_name: str) -> type | None:
    resolution = kenning_names.lookup(family, type_name)
    if resolution.reason:
        problems.add(f"{path}: {key}.type: {type_name}: {resolution.reason}")
        return None
    cls = registry.find_block(family, type_name)
    if cls is not None:
        return cls
    pending = kenning_names.pending_reason(family, resolution.name or type_name)
    if pending:
        problems.add(f"{path}: {key}.type: {pending}")
        return None
    known = list(registry.BLOCKS[family])
    problems.add(f"{path}: {key}.type: unknown {family} type {type_name!r}; allowed: "
                 + ", ".join(known) + " or a dotted path to a subclass of "
                 + registry.FAMILY_BASES[family].replace(":", ".")
                 + did_you_mean(type_name.rsplit(".", 1)[-1],
                                [*known, *kenning_names.PENDING]))
    return None


def _plan(problems: Problems, path: Path, name: str, description: str, data: dict[str, Any],
          blocks: dict[str, BlockConfig | None], optimizers: list[BlockConfig],
          fields: dict[str, Any]) -> Scenario | None:
    """Negotiate formats along model → optimizers → runtime; derive what Kenning derives."""
    model_wrapper, platform = blocks["model_wrapper"], blocks["platform"]
    assert model_wrapper is not None and platform is not None
    given_runtime = blocks.get("runtime")
    native = model_wrapper.cls.native_format(model_wrapper.parameters)
    wrapper = f"model_wrapper {model_wrapper.type_name}"
    steps: list[Step] = []
    # A given model_path may already be int8 (read from the .tflite file).
    numerics = model_wrapper.cls.starting_numerics(model_wrapper.parameters, path.parent)
    if optimizers:
        first = optimizers[0]
        current = _pick(problems, path, first.key, first.type_name, first.cls.ACCEPTS, native,
                        wrapper)
        if current is None:
            return None
        convert_steps = (Step("convert", native, current),)
        incoming, previous = native, wrapper  # model_framework names the model before conversion
        for index, optimizer in enumerate(optimizers):
            framework = optimizer.parameters.get("model_framework", "any")
            if framework not in ("any", incoming):
                problems.add(f"{path}: {optimizer.key}.parameters.model_framework: "
                             f"{framework!r}, but {previous} produces a {incoming} model",
                             compatibility=True)
            if index:
                chosen = _pick(problems, path, optimizer.key, optimizer.type_name,
                               optimizer.cls.ACCEPTS, current, previous)
                if chosen is None:
                    return None
                if chosen != current:
                    steps.append(Step("convert", current, chosen))
                current = chosen
            instance = optimizer.create()
            numerics = instance.numerics(numerics)
            for phase in optimizer.cls.PHASES:
                out = instance.output_format(phase, current)
                steps.append(Step(phase, current, out, optimizer=index))
                current = out
            incoming, previous = current, f"{optimizer.key} ({optimizer.type_name})"
        runtime, source = _runtime_for(problems, path, platform, given_runtime, current,
                                       numerics)
        if runtime is None:
            return None
        chosen = _pick(problems, path, "runtime", runtime.type_name, runtime.cls.ACCEPTS,
                       current, previous)
        if chosen is None:
            return None
        if chosen != current:
            steps.append(Step("convert", current, chosen))
    else:
        # No optimizer: the conversion to the runtime's format is the convert stage's step.
        reaching = (formats.pick_format(native, given_runtime.cls.ACCEPTS) or native
                    if given_runtime else native)
        # A given .tflite's own numerics (int8 or float32) pick the board's kernels.
        runtime, source = _runtime_for(problems, path, platform, given_runtime, reaching,
                                       numerics)
        if runtime is None:
            return None
        current = _pick(problems, path, "runtime", runtime.type_name, runtime.cls.ACCEPTS,
                        native, wrapper)
        if current is None:
            return None
        convert_steps = (Step("convert", native, current),)
    _check_numerics(problems, path, runtime, source, platform, numerics, optimizers)
    protocol = _protocol_for(problems, path, platform, blocks.get("protocol"))
    last_quantize = max((i for i, s in enumerate(steps) if s.kind == "quantize"), default=-1)
    scenario = Scenario(
        name=name, path=path, dataset=blocks["dataset"],  # type: ignore[arg-type]
        model_wrapper=model_wrapper, optimizers=tuple(optimizers), runtime=runtime,
        platform=platform, protocol=protocol, description=description,
        convert_steps=convert_steps, quantize_steps=tuple(steps[: last_quantize + 1]),
        compile_steps=tuple(steps[last_quantize + 1:]), report=blocks.get("report"),
        runtime_source=source, numerics=numerics, raw=data, **fields)
    runtime_parameters = (given_runtime or runtime).parameters
    return dataclasses.replace(scenario, exports=exports_of(scenario, runtime_parameters))


def _pick(problems: Problems, path: Path, key: str, name: str, accepts: tuple[str, ...],
          current: str, previous: str) -> str | None:
    """The format ``key`` takes the model in (format negotiation), or a problem."""
    chosen = formats.pick_format(current, accepts)
    if chosen is None:
        problems.add(f"{path}: {key}.type: {name} accepts {', '.join(accepts)} but {previous} "
                     f"produces {current} and no conversion {current}→({'|'.join(accepts)}) "
                     "exists", compatibility=True)
    return chosen


def derive_runtime(platform: type, model_format: str, numerics: Numerics = FLOAT32
                   ) -> str | None:
    """Kenning's derived runtime: by the model's format on the host, the board's on a board
    (its int8 or float32 kernels, by the model's numerics)."""
    if platform.TARGET_STAGES:
        return platform.on_target_runtime(numerics)
    return HOST_RUNTIMES.get(model_format)


def _runtime_for(problems: Problems, path: Path, platform: BlockConfig,
                 runtime: BlockConfig | None, model_format: str, numerics: Numerics = FLOAT32
                 ) -> tuple[BlockConfig | None, str]:
    embedded = bool(platform.cls.TARGET_STAGES)
    if runtime is not None:
        if runtime.cls.ON_TARGET and not embedded:
            problems.add(f"{path}: platform.type: runtime {runtime.type_name} runs on a "
                         f"microcontroller and needs an embedded platform, not "
                         f"{platform.type_name}", compatibility=True)
            return None, "given"
        if runtime.cls.ON_TARGET or not embedded:
            return runtime, "given"
        # A Kenning host runtime on a board names the format the board's runtime runs.
        on_target = platform.cls.on_target_runtime(numerics)
        if TARGET_FORMAT_RUNTIMES.get(runtime.type_name) != model_format or on_target is None:
            problems.add(
                f"{path}: runtime.type: platform {platform.type_name} runs firmware; "
                f"{runtime.type_name} is a host runtime (omit runtime to use the board's, "
                f"{on_target}, which runs .tflite models)", compatibility=True)
            return None, "given"
        return _default_block(on_target, "runtime"), "platform"
    derived = derive_runtime(platform.cls, model_format, numerics)
    if derived is None:
        problems.add(f"{path}: runtime: missing, and no runtime runs a {model_format} model "
                     f"on {platform.type_name}; add a runtime block", compatibility=True)
        return None, "derived"
    return _default_block(derived, "runtime"), "derived"


def _default_block(type_name: str, family: str) -> BlockConfig:
    cls = registry.find_block(family, type_name)
    assert cls is not None, type_name
    parameters = resolve_parameters(cls.PARAMETERS, {}, f"{family} {type_name}")
    return BlockConfig(family, cls, cls.complete(parameters), family)


def _check_numerics(problems: Problems, path: Path, runtime: BlockConfig, source: str,
                    platform: BlockConfig, numerics: Numerics,
                    optimizers: list[BlockConfig]) -> None:
    reason = runtime.cls.unsupported(numerics)
    if reason is None:
        return
    hint = ""
    tflite = [o for o in optimizers if o.type_name == "TFLiteCompiler"]
    if runtime.cls.ON_TARGET and tflite and runtime.cls.unsupported(FULL_INT8) is None:
        key = tflite[-1].key
        hint = (f"; set {key}.parameters target: int8, inference_input_type: int8 and "
                "inference_output_type: int8")
    elif runtime.cls.ON_TARGET and runtime.cls.unsupported(FULL_INT8) is None:
        hint = "; add TFLiteCompiler with target: int8 and int8 input and output types"
    if source == "given":
        where = f"runtime.type: {runtime.type_name}"
    else:  # the user did not write this runtime: name the block that chose it
        where = (f"platform.type: {platform.type_name} runs the model with "
                 f"{runtime.type_name}, which")
    problems.add(f"{path}: {where} {reason}{hint}", compatibility=True)


def _protocol_for(problems: Problems, path: Path, platform: BlockConfig,
                  protocol: BlockConfig | None) -> BlockConfig | None:
    """Check the protocol against the platform; derive a real board's, as Kenning does."""
    embedded = bool(platform.cls.TARGET_STAGES)
    stages = platform.cls.target_stages(platform.parameters)
    if protocol is not None and not embedded:
        port = protocol.parameters.get("port")
        what = f"names serial port {port!r}" if port else "talks to a board"
        problems.add(
            f"{path}: protocol: {protocol.type_name} {what}, but platform {platform.type_name} "
            "is this computer (nothing runs on a board); name the board: platform: {type: "
            "ZephyrPlatform, parameters: {name: BOARD, simulated: false}}, or BareMetalPlatform "
            "/ QEMUPlatform for a QEMU board")
        return protocol
    if not embedded:
        return None
    uart_port = platform.parameters.get("uart_port")
    if "simulate" in stages:
        if protocol is not None and protocol.parameters.get("port"):
            problems.add(f"{path}: protocol.parameters.port: {platform.type_name} runs QEMU, "
                         "reached through its own socket; remove port (it names a real "
                         "board's serial port)")
        return protocol
    if protocol is None:  # Kenning's get_default_protocol: the board's UART
        protocol = _default_block("UARTProtocol", "protocol")
        board = platform.cls.board(platform.parameters)
        baudrate = (platform.parameters.get("uart_baudrate")
                    or (board.uart_baudrate if board is not None else None))
        parameters = {**protocol.parameters, "port": uart_port, "baudrate": baudrate}
        return dataclasses.replace(protocol, parameters=parameters)
    port = protocol.parameters.get("port")
    if uart_port and port and uart_port != port:
        problems.add(f"{path}: protocol.parameters.port: {port!r} differs from "
                     f"platform.parameters.uart_port {uart_port!r}; give the port once")
    if uart_port and not port:
        protocol = dataclasses.replace(protocol,
                                       parameters={**protocol.parameters, "port": uart_port})
    return protocol


def exports_of(scenario: Scenario,
               runtime_parameters: dict[str, Any] | None = None) -> tuple[Export, ...]:
    """The scenario's export requests, each with the artifact it copies.

    ``runtime_parameters`` are those of the runtime block as written (a Kenning host runtime
    on a board is replaced by the board's runtime, but its save_model_path still counts).
    """
    result = []
    for index, optimizer in enumerate(scenario.optimizers):
        target = optimizer.parameters.get("compiled_model_path")
        if target:
            artifact, note = _optimizer_artifact(scenario, index)
            result.append(Export(f"{optimizer.key}.parameters.compiled_model_path", target,
                                 artifact, note))
    target = (runtime_parameters or scenario.runtime.parameters).get("save_model_path")
    if target:
        result.append(Export("runtime.parameters.save_model_path", target,
                             scenario.model_file("compile")))
    if scenario.report is not None:
        parameters = scenario.report.parameters
        if parameters.get("measurements"):
            result.append(Export("report.parameters.measurements", parameters["measurements"],
                                 "evaluate/measurements.json"))
        report_path = parameters.get("report_path")
        if report_path:
            result.append(Export("report.parameters.report_path", report_path,
                                 "report/report.md"))
            html = parameters.get("to_html")
            if html:
                folder = PurePosixPath(report_path if html is True else html).with_suffix("")
                result.append(Export("report.parameters.to_html",
                                     str(folder / (PurePosixPath(report_path).stem + ".html")),
                                     "report/report.html"))
    return tuple(result)


def _optimizer_artifact(scenario: Scenario, index: int) -> tuple[str | None, str]:
    """The chain-stage file holding optimizer ``index``'s model, if the chain keeps it."""
    optimizer = scenario.optimizers[index].create()
    for stage in ("quantize", "compile"):
        steps = getattr(scenario, f"{stage}_steps")
        mine = [i for i, s in enumerate(steps)
                if s.optimizer == index and not optimizer.pass_through(s.kind)]
        if not mine:
            continue
        last = mine[-1]
        later = steps[last + 1:]
        # The model is the stage's file when nothing after it (in this stage) changes it.
        if all(s.optimizer is not None and s.optimizer != index
               and scenario.optimizers[s.optimizer].create().pass_through(s.kind)
               for s in later):
            return scenario.model_file(stage), ""
    if not any(s.optimizer == index for s in scenario.quantize_steps + scenario.compile_steps):
        return None, "the optimizer has no phase"
    # Only pass-through phases, or a later step in the same stage changes the model.
    own = [s for s in (*scenario.quantize_steps, *scenario.compile_steps)
           if s.optimizer == index]
    if all(optimizer.pass_through(s.kind) for s in own):
        stage = "quantize" if scenario.quantize_steps else "convert"
        return scenario.model_file(stage), ""
    return None, ("this model is an intermediate file of its chain stage; the export needs "
                  "the stage to keep it")
