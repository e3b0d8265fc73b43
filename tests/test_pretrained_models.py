"""Bring your own model (``model_wrapper.parameters.model_path``): every format goes through the
rest of the chain; its I/O spec is read from the file and checked against the dataset; the file
is a train-stage input (replacing it reruns what depends on it, and only that).

Models are made in the tests: an ONNX graph written with ``onnx.helper`` from a ridge
regression fitted on the digits splits (no framework), and small Keras / PyTorch / int8 TFLite
models trained for a few epochs (``slow``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks import iospec
from kenning_tasks.datasets.digits import DigitsDataset
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.model_wrappers.keras import KerasModel
from kenning_tasks.model_wrappers.pretrained import install
from kenning_tasks.params import resolve_parameters
from kenning_tasks.scenario import validate
from tests.conftest import Project

DIGITS = {"type": "DigitsDataset", "parameters": {"seed": 12345}}


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The dataset stage's splits of the scenarios below (same parameters)."""
    folder = tmp_path_factory.mktemp("digits")
    dataset = DigitsDataset(resolve_parameters(DigitsDataset.PARAMETERS, DIGITS["parameters"],
                                               "t"), log=quiet)
    info = dataset.prepare(folder)
    with np.load(folder / "splits.npz") as data:
        return info, {k: data[k] for k in data.files}


def linear_onnx(path: Path, splits: dict, input_shape=(8, 8, 1)) -> Path:
    """A real classifier as ONNX: ridge regression onto one-hot labels (closed form), as
    Flatten → Gemm → Softmax, written with onnx.helper."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = splits["x_train"].reshape(len(splits["x_train"]), -1).astype(np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    y = np.eye(10)[splits["y_train"]]
    solved = np.linalg.solve(x.T @ x + 0.1 * np.eye(x.shape[1]), x.T @ y)
    weights = numpy_helper.from_array((10 * solved[:-1]).astype(np.float32), "weights")
    bias = numpy_helper.from_array((10 * solved[-1]).astype(np.float32), "bias")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "weights", "bias"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["output"], axis=1)],
        "digits", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, *input_shape])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])], [weights, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def test_onnx_file_is_installed_byte_for_byte_with_its_own_spec(tmp_path, digits) -> None:
    info, splits = digits
    source = linear_onnx(tmp_path / "user.onnx", splits)
    wrapper = KerasModel(resolve_parameters(KerasModel.PARAMETERS,
                                            {"model_path": "user.onnx"}, "t"))
    target = tmp_path / "train" / "model.onnx"
    install(wrapper, source, info, target, quiet)
    wrapper.write_io_spec(target, info)
    assert target.read_bytes() == source.read_bytes()
    spec = iospec.read_spec(target)
    assert spec["format"] == "onnx"
    assert spec["input"][0] == iospec.tensor("input", [1, 8, 8, 1], "float32")
    assert spec["output"][0]["name"] == "output" and spec["class_names"] == info["class_names"]


def test_model_not_matching_the_dataset_is_one_line(tmp_path, digits) -> None:
    info, splits = digits
    source = linear_onnx(tmp_path / "small.onnx", {
        "x_train": splits["x_train"][:, :4, :4], "y_train": splits["y_train"]},
        input_shape=(4, 4, 1))
    wrapper = KerasModel(resolve_parameters(KerasModel.PARAMETERS,
                                            {"model_path": "small.onnx"}, "t"))
    with pytest.raises(StageError) as error:
        install(wrapper, source, info, tmp_path / "model.onnx", quiet)
    assert str(error.value) == (
        "model_wrapper.parameters.model_path: small.onnx maps (4, 4, 1) to (10,); the dataset "
        "gives (8, 8, 1) inputs and the model wrapper needs 10 outputs (10 classes)")
    assert not (tmp_path / "model.onnx").exists()
    (tmp_path / "garbage.onnx").write_bytes(b"not a model")
    with pytest.raises(StageError, match=r"garbage\.onnx is not a valid ONNX model"):
        install(wrapper, tmp_path / "garbage.onnx", info, tmp_path / "model.onnx", quiet)


def test_model_path_plans_the_chain_from_the_files_format(tmp_path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"")
    (tmp_path / "m.h5").write_bytes(b"")
    onnx_host = {"dataset": DIGITS, "runtime": {"type": "ONNXRuntime"},
                 "model_wrapper": {"type": "KerasModel", "parameters": {"model_path": "m.onnx"}}}
    scenario = validate(tmp_path / "s.yml", "s", onnx_host)
    assert scenario.native_format == "onnx" and scenario.model_file("train") == "train/model.onnx"
    assert [s.describe(scenario) for s in scenario.convert_steps] == ["convert onnx→onnx"]
    h5 = {"dataset": DIGITS, "model_wrapper": {"type": "MagicWandModelWrapper",
                                                "parameters": {"model_path": "m.h5"}},
          "optimizers": [{"type": "TFLiteCompiler"}]}
    assert validate(tmp_path / "s.yml", "s", h5).model_file("train") == "train/model.keras"
    # A .tflite cannot feed TFLiteCompiler (Kenning's takes Keras and ONNX models either).
    problems = []
    for given, message in [
            ("m.bin", "'m.bin' is not a model file this project reads; allowed suffixes: "
                      ".tflite, .onnx, .keras, .h5, .pt, .pth"),
            ("missing.tflite", "missing.tflite does not exist")]:
        data = {**onnx_host, "model_wrapper": {"type": "KerasModel",
                                               "parameters": {"model_path": given}}}
        with pytest.raises(ScenarioError) as error:
            validate(tmp_path / "s.yml", "s", data)
        problems += list(error.value.problems)
        assert message in str(error.value) and "\n" not in str(error.value)
    assert all(p.startswith(f"{tmp_path / 's.yml'}: model_wrapper.parameters.model_path: ")
               for p in problems)


def _scenario(project: Project, name: str, text: str) -> None:
    (project.root / "scenarios" / f"{name}.yml").write_text(text)


@pytest.mark.slow
def test_onnx_model_path_evaluates_and_replacing_the_file_reruns_only_what_depends_on_it(
        project: Project, digits) -> None:
    _, splits = digits
    model = linear_onnx(project.root / "scenarios" / "models" / "digits.onnx", splits)
    _scenario(project, "own-onnx", """\
dataset: {type: DigitsDataset, parameters: {seed: 12345}}
model_wrapper: {type: KerasModel, parameters: {model_path: models/digits.onnx}}
runtime: {type: ONNXRuntime}
""")
    run = project.doit("scenario=own-onnx", "evaluate")
    assert run.returncode == 0, run.stdout + run.stderr
    build = project.build("own-onnx")
    assert json.loads((build / "train" / "training.json").read_text())["pretrained"] is True
    assert (build / "train" / "model.onnx").read_bytes() == model.read_bytes()
    first = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert first["accuracy"] >= 0.9
    model.touch()  # same bytes: nothing to do
    assert project.doit("scenario=own-onnx", "evaluate").executed == []
    linear_onnx(model, {"x_train": splits["x_train"][::2], "y_train": splits["y_train"][::2]})
    rerun = project.doit("scenario=own-onnx", "evaluate")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.executed_stages() == {"train", "convert", "quantize", "compile", "evaluate"}
    second = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert second["predictions"] != first["predictions"]


@pytest.mark.slow
def test_users_int8_tflite_goes_straight_to_the_firmware(project: Project, digits) -> None:
    """No optimizer: the user's int8 file is what the board runs, and the test split is
    quantized with the file's own scale and zero point."""
    from kenning_tasks.frameworks import import_keras, import_tensorflow
    from kenning_tasks.model_wrappers.keras import build_model

    keras, tf = import_keras(), import_tensorflow()
    _, splits = digits
    keras.utils.set_random_seed(7)
    trained = build_model("cnn", (8, 8, 1), 10)
    trained.compile(optimizer=keras.optimizers.Adam(0.01),
                    loss="sparse_categorical_crossentropy")
    trained.fit(splits["x_train"], splits["y_train"], epochs=6, batch_size=32, verbose=0)
    deploy = build_model("cnn", (8, 8, 1), 10, batch_size=1)
    deploy.set_weights(trained.get_weights())
    converter = tf.lite.TFLiteConverter.from_keras_model(deploy)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([s[np.newaxis]] for s in splits["x_train"][:200])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    model = project.root / "scenarios" / "models" / "digits_int8.tflite"
    model.parent.mkdir(parents=True)
    model.write_bytes(converter.convert())
    _scenario(project, "own-int8", """\
dataset: {type: DigitsDataset, parameters: {seed: 12345}}
model_wrapper: {type: KerasModel, parameters: {model_path: models/digits_int8.tflite}}
platform: {type: QEMUPlatform, parameters: {board: mps2-an386}}
""")
    run = project.doit("scenario=own-int8", "evaluate", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    build = project.build("own-int8")
    assert "train" in run.executed_stages() and "Traceback" not in run.stderr
    assert (build / "compile" / "model.tflite").read_bytes() == model.read_bytes()
    spec = iospec.read_spec(build / "compile" / "model.tflite")
    from ai_edge_litert.interpreter import Interpreter

    scale, zero_point = Interpreter(model_path=str(model)).get_input_details()[0]["quantization"]
    assert (spec["input"][0]["dtype"], spec["input"][0]["scale"],
            spec["input"][0]["zero_point"]) == ("int8", pytest.approx(scale), zero_point)
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert measurements["on_target"]["agreement_with_host"] == 1.0
    assert measurements["accuracy"] >= 0.85


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["h5", "pt"])
def test_keras_and_torch_files_go_through_the_chain(project: Project, digits, fmt: str) -> None:
    _, splits = digits
    folder = project.root / "scenarios" / "models"
    folder.mkdir(parents=True)
    if fmt == "h5":
        from kenning_tasks.frameworks import import_keras
        from kenning_tasks.model_wrappers.keras import build_model

        keras = import_keras()
        keras.utils.set_random_seed(3)
        net = build_model("mlp", (8, 8, 1), 10)
        net.compile(optimizer=keras.optimizers.Adam(0.01),
                    loss="sparse_categorical_crossentropy")
        net.fit(splits["x_train"], splits["y_train"], epochs=8, batch_size=32, verbose=0)
        net.save(folder / "digits.h5")
        wrapper, optimizer = "KerasModel", "TFLiteCompiler, parameters: {target: int8}"
    else:  # a bare state dict of TorchModel's mlp, as torch.save(model.state_dict()) writes
        import torch

        from kenning_tasks.model_wrappers.torch import build_model

        torch.manual_seed(3)
        net = build_model("mlp", [8, 8, 1], 10)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        x, y = torch.from_numpy(splits["x_train"]), torch.from_numpy(splits["y_train"])
        for _ in range(60):
            opt.zero_grad()
            torch.nn.functional.nll_loss(torch.log(net(x) + 1e-9), y).backward()
            opt.step()
        torch.save(net.state_dict(), folder / "digits.pt")
        wrapper, optimizer = ("TorchModel, parameters: {architecture: mlp}",
                              "ONNXCompiler, parameters: {quantization: none}")
    _scenario(project, f"own-{fmt}", f"""\
dataset: {{type: DigitsDataset, parameters: {{seed: 12345}}}}
model_wrapper: {{type: {wrapper.split(',')[0]}, parameters: {{model_path: models/digits.{fmt}
  {', architecture: mlp' if fmt == 'pt' else ''}}}}}
optimizers: [{{type: {optimizer}}}]
""")
    run = project.doit(f"scenario=own-{fmt}", "evaluate", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    measurements = json.loads((project.build(f"own-{fmt}") / "evaluate"
                               / "measurements.json").read_text())
    assert measurements["accuracy"] >= 0.85


def test_model_path_uri_is_downloaded_through_the_resource_cache(tmp_path, digits,
                                                                  monkeypatch) -> None:
    from kenning_tasks.model_wrappers import pretrained
    from tests.data_support.server import serve

    info, splits = digits
    served = linear_onnx(tmp_path / "served" / "remote.onnx", splits)
    monkeypatch.setenv("KENNING_TASKS_RESOURCES", str(tmp_path / "resources"))
    lines: list[str] = []
    with serve(tmp_path / "served") as url:
        parameters = {"model_path": f"{url}/remote.onnx"}
        assert pretrained.input_files(parameters, tmp_path) == []  # the URI is the parameter
        fetched = pretrained.fetch(parameters, tmp_path, lines.append)
    assert fetched.read_bytes() == served.read_bytes()
    assert fetched.is_relative_to(tmp_path / "resources")
    assert any("has no sha256; the download is not verified" in line for line in lines)
    wrapper = KerasModel(resolve_parameters(KerasModel.PARAMETERS, parameters, "t"))
    install(wrapper, fetched, info, tmp_path / "model.onnx", quiet)
    assert (tmp_path / "model.onnx").read_bytes() == served.read_bytes()


@pytest.mark.slow
def test_vae_state_dict_installs_and_gets_a_threshold_from_the_train_split(tmp_path) -> None:
    import torch

    from kenning_tasks.datasets.anomaly_detection import AnomalyDetectionDataset
    from kenning_tasks.datasets.synthetic.anomaly import write_anomaly_csv
    from kenning_tasks.model_wrappers.anomaly_detection import PyTorchAnomalyDetectionVAE
    from kenning_tasks.model_wrappers.torch import load_torch

    write_anomaly_csv(tmp_path / "data.csv", rows=1200)
    info = AnomalyDetectionDataset(
        resolve_parameters(AnomalyDetectionDataset.PARAMETERS,
                           {"dataset_root": ".", "csv_file": "data.csv", "window_size": 8}, "t"),
        base_dir=tmp_path, log=quiet).prepare(tmp_path / "ds")
    given = {"model_path": "vae.pth", "batch_norm": True}
    wrapper = PyTorchAnomalyDetectionVAE(resolve_parameters(
        PyTorchAnomalyDetectionVAE.PARAMETERS, given, "t"))
    builder, spec = wrapper.torch_architecture(info)
    from kenning_tasks.registry import load_object

    torch.manual_seed(0)
    net = load_object(builder)(**spec)
    torch.save(net.state_dict(), tmp_path / "vae.pth")  # threshold buffer 0: not calibrated
    wrapper.install_pretrained(tmp_path / "vae.pth", info, tmp_path / "model.pt", quiet,
                               splits_path=tmp_path / "ds" / "splits.npz")
    wrapper.write_io_spec(tmp_path / "model.pt", info)
    spec_file = iospec.read_spec(tmp_path / "model.pt")
    threshold = spec_file["anomaly"]["threshold"]
    assert threshold > 0 and float(load_torch(tmp_path / "model.pt").threshold) == threshold
    assert spec_file["input"][0]["mean"] == info["normalization"]["mean"]
    # The wrong architecture is one line naming the file.
    other = PyTorchAnomalyDetectionVAE(resolve_parameters(
        PyTorchAnomalyDetectionVAE.PARAMETERS, {**given, "latent_dim": 3}, "t"))
    with pytest.raises(StageError, match=r"vae\.pth does not fit PyTorchAnomalyDetectionVAE"):
        other.install_pretrained(tmp_path / "vae.pth", info, tmp_path / "x.pt", quiet)
