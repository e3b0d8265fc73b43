"""Kenning's class names and dotted paths, mapped to this project's blocks.

A Kenning scenario names blocks by full dotted path (``kenning.optimizers.tflite.TFLiteCompiler``)
or by class name (``TFLiteCompiler``). ``lookup`` turns either into the short name of one of
our blocks, or into a one-line reason why there is none: out of scope, not available (with the
nearest alternative), or not available yet (blocks another change is adding; they resolve as
soon as they are registered in ``registry.BLOCKS``).

Nothing here imports a block: this is a table, read by validation.
"""

from __future__ import annotations

from dataclasses import dataclass

# Our block (short name) -> Kenning's dotted class path, for blocks that carry Kenning's name.
KENNING_PATHS: dict[str, str] = {
    "TFLiteCompiler": "kenning.optimizers.tflite.TFLiteCompiler",
    "ONNXCompiler": "kenning.optimizers.onnx.ONNXCompiler",
    "TVMCompiler": "kenning.optimizers.tvm.TVMCompiler",
    "IREECompiler": "kenning.optimizers.iree.IREECompiler",
    "TFLiteRuntime": "kenning.runtimes.tflite.TFLiteRuntime",
    "ONNXRuntime": "kenning.runtimes.onnx.ONNXRuntime",
    "TVMRuntime": "kenning.runtimes.tvm.TVMRuntime",
    "IREERuntime": "kenning.runtimes.iree.IREERuntime",
    "PyTorchRuntime": "kenning.runtimes.pytorch.PyTorchRuntime",
    "LocalPlatform": "kenning.platforms.local.LocalPlatform",
    "BareMetalPlatform": "kenning.platforms.bare_metal.BareMetalPlatform",
    "ZephyrPlatform": "kenning.platforms.zephyr.ZephyrPlatform",
    "UARTProtocol": "kenning.protocols.uart.UARTProtocol",
    "MarkdownReport": "kenning.report.markdown_report.MarkdownReport",
    # Data sets and model wrappers of Kenning's manual, added by the data-set work; until a
    # class is registered its name is reported as not available yet (PENDING).
    "AnomalyDetectionDataset": "kenning.datasets.anomaly_detection_dataset."
                               "AnomalyDetectionDataset",
    "MagicWandDataset": "kenning.datasets.magic_wand_dataset.MagicWandDataset",
    "PetDataset": "kenning.datasets.pet_dataset.PetDataset",
    "VisualWakeWordsDataset": "kenning.datasets.visual_wake_words_dataset."
                              "VisualWakeWordsDataset",
    "PyTorchAnomalyDetectionVAE": "kenning.modelwrappers.anomaly_detection.vae."
                                  "PyTorchAnomalyDetectionVAE",
    "PyTorchAnomalyDetectionCNN": "kenning.modelwrappers.anomaly_detection.cnn."
                                  "PyTorchAnomalyDetectionCNN",
    "MagicWandModelWrapper": "kenning.modelwrappers.classification.tflite_magic_wand."
                             "MagicWandModelWrapper",
    "TensorFlowPetDatasetMobileNetV2": "kenning.modelwrappers.classification."
                                       "tensorflow_pet_dataset.TensorFlowPetDatasetMobileNetV2",
    "PersonDetectionModelWrapper": "kenning.modelwrappers.classification."
                                   "tflite_person_detection.PersonDetectionModelWrapper",
}
PENDING = {
    "AnomalyDetectionDataset": "dataset", "MagicWandDataset": "dataset",
    "PetDataset": "dataset", "VisualWakeWordsDataset": "dataset",
    "PyTorchAnomalyDetectionVAE": "model_wrapper", "PyTorchAnomalyDetectionCNN": "model_wrapper",
    "MagicWandModelWrapper": "model_wrapper", "TensorFlowPetDatasetMobileNetV2": "model_wrapper",
    "PersonDetectionModelWrapper": "model_wrapper",
}
NEAREST = {
    "dataset": "DigitsDataset or CSVDataset (Kenning's anomaly-detection CSV layout)",
    "model_wrapper": "KerasModel or TorchModel",
    "optimizer": "TFLiteCompiler, ONNXCompiler, TVMCompiler or IREECompiler",
    "runtime": "TFLiteRuntime, ONNXRuntime, TVMRuntime, IREERuntime or PyTorchRuntime",
    "platform": "LocalPlatform, BareMetalPlatform or ZephyrPlatform",
    "protocol": "UARTProtocol with an embedded platform",
    "report": "MarkdownReport",
}

# Kenning's package of each block family.
FAMILY_PACKAGES = {
    "kenning.datasets": "dataset", "kenning.modelwrappers": "model_wrapper",
    "kenning.optimizers": "optimizer", "kenning.runtimes": "runtime",
    "kenning.platforms": "platform", "kenning.protocols": "protocol",
    "kenning.report": "report", "kenning.runtimebuilders": "runtime_builder",
    "kenning.dataconverters": "dataconverter", "kenning.automl": "automl",
    "kenning.runners": "KenningFlow runner", "kenning.dataproviders": "KenningFlow data provider",
    "kenning.outputcollectors": "KenningFlow output collector",
}

DETECTION = "object detection and segmentation models are out of scope (classification only)"
LLM = "LLMs are out of scope"
GPU = "GPU platforms are out of scope (no GPU here); nearest: LocalPlatform (this CPU)"
AUTOML = "AutoML is out of scope; nearest: a grid search (optimization_parameters)"
PRUNING = ("pruning and clustering optimizers are out of scope; nearest: quantization "
           "(TFLiteCompiler target: int8)")
FLOW = ("KenningFlow is out of scope: a scenario here is one pipeline (dataset, model_wrapper, "
        "optimizers, runtime, platform)")
RUNTIME_BUILDER = ("runtime_builder is out of scope: the firmware stage builds the target's "
                   "runtime itself; remove it and name the board in platform")

# Kenning class (or module prefix) -> why there is no block for it here.
OUT_OF_SCOPE: dict[str, str] = {
    **dict.fromkeys(("YOLACT", "YOLACTWrapper", "YOLACTWithPostprocessing", "ONNXYOLOV4",
                     "TVMDarknetCOCOYOLOV3", "YOLOWrapper", "PyTorchCOCOMaskRCNN",
                     "COCODataset2017", "OpenImagesDatasetV6",
                     "RandomizedDetectionSegmentationDataset", "LindenthalCameraTrapsDataset",
                     "kenning.modelwrappers.object_detection",
                     "kenning.modelwrappers.instance_segmentation"), DETECTION),
    **dict.fromkeys(("MistralInstruct", "Llama", "PHI2", "LLM", "CNNDailymailDataset",
                     "RandomizedTextDataset", "VLLMRuntime", "AWQOptimizer", "GPTQOptimizer",
                     "GPTQSparseGPTOptimizer", "kenning.modelwrappers.llm"), LLM),
    **dict.fromkeys(("CUDAPlatform",), GPU),
    **dict.fromkeys(("AutoPyTorchML", "AutoML", "kenning.automl"), AUTOML),
    **dict.fromkeys(("TensorFlowPruningOptimizer", "NNIPruningOptimizer",
                     "TensorFlowClusteringOptimizer"), PRUNING),
    **dict.fromkeys(("ZephyrRuntimeBuilder", "kenning.runtimebuilders"), RUNTIME_BUILDER),
    **dict.fromkeys(("kenning.runners", "kenning.dataproviders", "kenning.outputcollectors",
                     "ModelRuntimeRunner", "CameraDataProvider"), FLOW),
}

# Kenning classes with no equivalent (not out of scope, just not here), with why.
UNAVAILABLE: dict[str, str] = {
    "NetworkProtocol": "client-server evaluation over TCP is not supported; nearest: "
                       "UARTProtocol with an embedded platform",
    "ROS2Protocol": "ROS 2 is not supported; nearest: UARTProtocol with an embedded platform",
    "ROS2Platform": "ROS 2 is not supported; nearest: LocalPlatform",
    "ExecuTorchOptimizer": "ExecuTorch is not installed here; nearest: ONNXCompiler",
    "ExecuTorchRuntime": "ExecuTorch is not installed here; nearest: ONNXRuntime",
    "TinygradOptimizer": "tinygrad is not installed here; nearest: TVMCompiler",
    "TinygradRuntime": "tinygrad is not installed here; nearest: TVMRuntime",
    "Ai8xCompiler": "the MAX78002 CNN accelerator tools are not available here; nearest: "
                    "TFLiteCompiler target int8 with an embedded platform",
    "Ai8xRuntime": "the MAX78002 CNN accelerator is not available here; nearest: the "
                   "derived on-target runtime of an embedded platform",
}


# Kenning's block classes by family (v0.8.2), so a class name without an equivalent here gets
# "no equivalent" rather than "unknown".
KENNING_CLASSES: dict[str, frozenset[str]] = {
    "dataset": frozenset((
        "AnomalyDetectionDataset", "CNNDailymailDataset", "COCODataset2017",
        "CommonVoiceDataset", "ImageNetDataset", "LindenthalCameraTrapsDataset",
        "MagicWandDataset", "OpenImagesDatasetV6", "PetDataset",
        "RandomizedImageClassificationDataset", "RandomizedClassificationDataset",
        "RandomizedDetectionSegmentationDataset", "RandomizedTextDataset",
        "RandomizedAnomalyDetectionDataset", "TabularDataset", "VideoDataset",
        "VisualWakeWordsDataset")),
    "model_wrapper": frozenset((
        "Ai8xAnomalyDetectionCNN", "PyTorchAnomalyDetectionCNN", "PyTorchAnomalyDetectionVAE",
        "PyTorchGenericClassification", "PyTorchGenericAutoencoderClassification",
        "PyTorchMagicWandModelWrapper", "PyTorchPetDatasetMobileNetV2", "StubEmlearnModel",
        "TensorFlowImageNet", "TensorFlowPetDatasetMobileNetV2", "MagicWandModelWrapper",
        "PersonDetectionModelWrapper", "TinygradImageNet", "Dinov2ONNX", "PyTorchCOCOMaskRCNN",
        "YOLACTWrapper", "YOLACTWithPostprocessing", "YOLACT", "Llama", "LLM",
        "MistralInstruct", "PHI2", "TVMDarknetCOCOYOLOV3", "YOLOWrapper", "ONNXYOLOV4",
        "MMPoseModelWrapper", "MMPoseONNX", "MMPoseRTMOONNX")),
    "optimizer": frozenset((
        "Ai8xCompiler", "AWQOptimizer", "ExecuTorchOptimizer", "GPTQOptimizer",
        "GPTQSparseGPTOptimizer", "IREECompiler", "ModelInserter", "NNIPruningOptimizer",
        "ONNXCompiler", "TensorFlowClusteringOptimizer", "TensorFlowPruningOptimizer",
        "TFLiteCompiler", "TinygradOptimizer", "TVMCompiler")),
    "runtime": frozenset((
        "Ai8xRuntime", "ExecuTorchRuntime", "IREERuntime", "ONNXRuntime", "PyTorchRuntime",
        "TFLiteRuntime", "TinygradRuntime", "TVMRuntime", "VLLMRuntime")),
    "platform": frozenset(("BareMetalPlatform", "CUDAPlatform", "LocalPlatform",
                           "ROS2Platform", "ZephyrPlatform")),
    "protocol": frozenset(("NetworkProtocol", "ROS2Protocol", "UARTProtocol")),
    "report": frozenset(("MarkdownReport", "StubReport")),
}


@dataclass(frozen=True)
class Resolution:
    """What a scenario's ``type`` names: one of our blocks (``name``) or why none."""

    name: str | None
    reason: str | None = None
    kenning_path: str | None = None


def kenning_family(dotted: str) -> str | None:
    """Kenning's block family of a dotted path (``kenning.runtimes.x.Y`` -> runtime)."""
    for package, family in FAMILY_PACKAGES.items():
        if dotted.startswith(package + "."):
            return family
    return None


def out_of_scope(name: str) -> str | None:
    """The out-of-scope reason for a Kenning class name or dotted path, if any."""
    short = name.rsplit(".", 1)[-1]
    if short in OUT_OF_SCOPE:
        return OUT_OF_SCOPE[short]
    for prefix, reason in OUT_OF_SCOPE.items():
        if "." in prefix and name.startswith(prefix + "."):
            return reason
    return None


def lookup(family: str, type_name: str) -> Resolution:
    """Resolve a scenario's ``type`` for a block family (no import)."""
    reason = out_of_scope(type_name)
    if reason:
        return Resolution(None, reason)
    short = type_name.rsplit(".", 1)[-1]
    if not type_name.startswith("kenning."):
        if "." not in type_name and short in UNAVAILABLE:
            return Resolution(None, f"Kenning's {short} has no equivalent here: "
                                    f"{UNAVAILABLE[short]}")
        if ("." not in type_name and short in KENNING_CLASSES.get(family, ())
                and short not in KENNING_PATHS):
            return Resolution(None, f"Kenning's {short} has no equivalent here; nearest: "
                                    f"{NEAREST.get(family, 'see `python -m kenning_tasks list`')}")
        return Resolution(type_name)
    found = kenning_family(type_name)
    if found is not None and found != family:
        return Resolution(None, f"{type_name} is a Kenning {found} block, not a {family}")
    if KENNING_PATHS.get(short) == type_name:
        return Resolution(short, kenning_path=type_name)
    if short in KENNING_PATHS:
        return Resolution(None, f"Kenning has no class {type_name}; did you mean "
                                f"{KENNING_PATHS[short]!r}?")
    if short in UNAVAILABLE:
        return Resolution(None, f"Kenning's {short} has no equivalent here: {UNAVAILABLE[short]}")
    return Resolution(None, f"Kenning's {short} has no equivalent here; nearest: "
                            f"{NEAREST.get(family, 'see `python -m kenning_tasks list`')}")


def pending_reason(family: str, name: str) -> str | None:
    """Why a Kenning block that is being added cannot be used yet (None if not pending)."""
    if PENDING.get(name) != family:
        return None
    return (f"Kenning's {name} is not available in this version yet (it is being added); "
            f"nearest: {NEAREST[family]}")


def kenning_path(name: str) -> str | None:
    """Kenning's dotted path of one of our blocks, when it carries Kenning's name."""
    return KENNING_PATHS.get(name)
