"""Where every block lives, by family, so listing and validation import only light modules.

A ``type`` is a short class name, Kenning's dotted path of a block we have
(``kenning.runtimes.tflite.TFLiteRuntime``, see ``kenning_names``) or a dotted path to a
subclass of the family's base class.
"""

from __future__ import annotations

import importlib
from typing import Any

from kenning_tasks import kenning_names

# family -> short class name -> "module:Class". Block modules import frameworks lazily.
BLOCKS: dict[str, dict[str, str]] = {
    "dataset": {
        "DigitsDataset": "kenning_tasks.datasets.digits:DigitsDataset",
        "CSVDataset": "kenning_tasks.datasets.csv:CSVDataset",
        "AnomalyDetectionDataset":
            "kenning_tasks.datasets.anomaly_detection:AnomalyDetectionDataset",
        "MagicWandDataset": "kenning_tasks.datasets.magic_wand:MagicWandDataset",
        "PetDataset": "kenning_tasks.datasets.pet:PetDataset",
        "VisualWakeWordsDataset": "kenning_tasks.datasets.visual_wake_words:VisualWakeWordsDataset",
    },
    "model_wrapper": {
        "KerasModel": "kenning_tasks.model_wrappers.keras:KerasModel",
        "TorchModel": "kenning_tasks.model_wrappers.torch:TorchModel",
        "PyTorchAnomalyDetectionVAE":
            "kenning_tasks.model_wrappers.anomaly_detection:PyTorchAnomalyDetectionVAE",
        "PyTorchAnomalyDetectionCNN":
            "kenning_tasks.model_wrappers.anomaly_detection:PyTorchAnomalyDetectionCNN",
        "MagicWandModelWrapper": "kenning_tasks.model_wrappers.magic_wand:MagicWandModelWrapper",
        "TensorFlowPetDatasetMobileNetV2":
            "kenning_tasks.model_wrappers.pet:TensorFlowPetDatasetMobileNetV2",
        "PersonDetectionModelWrapper":
            "kenning_tasks.model_wrappers.person_detection:PersonDetectionModelWrapper",
    },
    "optimizer": {
        "TFLiteCompiler": "kenning_tasks.optimizers.tflite:TFLiteCompiler",
        "ONNXCompiler": "kenning_tasks.optimizers.onnx:ONNXCompiler",
        "TVMCompiler": "kenning_tasks.optimizers.tvm:TVMCompiler",
        "IREECompiler": "kenning_tasks.optimizers.iree:IREECompiler",
    },
    "runtime": {
        "TFLiteRuntime": "kenning_tasks.runtimes.litert:TFLiteRuntime",
        "ONNXRuntime": "kenning_tasks.runtimes.onnxruntime:ONNXRuntime",
        "KerasRuntime": "kenning_tasks.runtimes.native:KerasRuntime",
        "TorchRuntime": "kenning_tasks.runtimes.native:TorchRuntime",
        "MicroInt8Runtime": "kenning_tasks.runtimes.micro:MicroInt8Runtime",
        "MicroFloat32Runtime": "kenning_tasks.runtimes.micro_f32:MicroFloat32Runtime",
        "TFLiteMicroRuntime": "kenning_tasks.runtimes.tflm:TFLiteMicroRuntime",
        "TVMRuntime": "kenning_tasks.runtimes.tvm:TVMRuntime",
        "IREERuntime": "kenning_tasks.runtimes.iree:IREERuntime",
        "PyTorchRuntime": "kenning_tasks.runtimes.native:PyTorchRuntime",
    },
    "platform": {
        "HostPlatform": "kenning_tasks.platforms.host:HostPlatform",
        "LocalPlatform": "kenning_tasks.platforms.host:LocalPlatform",
        "QEMUPlatform": "kenning_tasks.platforms.qemu:QEMUPlatform",
        "BareMetalPlatform": "kenning_tasks.platforms.baremetal:BareMetalPlatform",
        "ZephyrPlatform": "kenning_tasks.platforms.zephyr:ZephyrPlatform",
    },
    "protocol": {
        "UARTProtocol": "kenning_tasks.protocols.uart:UARTProtocol",
    },
    "report": {
        "MarkdownReport": "kenning_tasks.reports.markdown:MarkdownReport",
    },
}

FAMILY_BASES = {
    "dataset": "kenning_tasks.datasets.base:Dataset",
    "model_wrapper": "kenning_tasks.model_wrappers.base:ModelWrapper",
    "optimizer": "kenning_tasks.optimizers.base:Optimizer",
    "runtime": "kenning_tasks.runtimes.base:Runtime",
    "platform": "kenning_tasks.platforms.base:Platform",
    "protocol": "kenning_tasks.protocols.base:Protocol",
    "report": "kenning_tasks.reports.base:Report",
}


def load_object(spec: str) -> Any:
    """Import ``module:attr`` or ``module.attr``."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def find_block(family: str, type_name: str) -> type | None:
    """The class for a short name or a dotted path, or None when it does not exist."""
    if type_name.startswith("kenning."):
        type_name = kenning_names.lookup(family, type_name).name or ""
    if type_name in BLOCKS[family]:
        return load_object(BLOCKS[family][type_name])
    if "." not in type_name:
        return None
    try:
        cls = load_object(type_name)
    except (ImportError, AttributeError, ValueError):
        return None
    base = load_object(FAMILY_BASES[family])
    return cls if isinstance(cls, type) and issubclass(cls, base) else None

