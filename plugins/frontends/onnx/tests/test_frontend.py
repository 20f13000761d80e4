"""Loading, naming, options, errors and the onnxruntime reference of the ONNX frontend."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sophonc.api import FrontendOptions
from sophonc.errors import ModelLoadError, ShapeError, SophonError, UnsupportedOpError
from sophonc.interp import Interpreter
from sophonc_frontend_onnx.frontend import OnnxFrontend
from sophonc_frontend_onnx.registry import get_converter, register_converter


def _conv_model(make_model, dims=(1, 3, 8, 8)):
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node(
            "Conv", ["x", "w", "b"], ["/conv1/Conv_output_0"], pads=[1, 1, 1, 1], name="/conv1/Conv"
        ),
        helper.make_node(
            "Relu", ["/conv1/Conv_output_0"], ["/relu/Relu_output_0"], name="/relu/Relu"
        ),
        helper.make_node(
            "Flatten", ["/relu/Relu_output_0"], ["/flat/Flatten_output_0"], name="/flat/Flatten"
        ),
        helper.make_node(
            "Gemm",
            ["/flat/Flatten_output_0", "fc.w", "fc.b"],
            ["logits"],
            transB=1,
            name="/fc/Gemm",
        ),
    ]
    h, w = (8, 8) if isinstance(dims[2], str) else dims[2:]
    inits = {
        "w": rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32),
        "b": rng.uniform(-1, 1, 4).astype(np.float32),
        "fc.w": rng.uniform(-1, 1, (5, 4 * h * w)).astype(np.float32),
        "fc.b": rng.uniform(-1, 1, 5).astype(np.float32),
    }
    return make_model(
        nodes, [("x", np.float32, list(dims))], ["logits"], initializers=inits, opset=13
    )


def _save(model, tmp_path, name="m.onnx"):
    path = tmp_path / name
    onnx.save(model, path)
    return path


def test_names_follow_tpu_mlir(make_model, tmp_path):
    module = OnnxFrontend().load(_save(_conv_model(make_model), tmp_path), FrontendOptions())
    names = [n.outputs[0].name for n in module.graph.nodes]
    assert names == [
        "/conv1/Conv_output_0_Conv",
        "/relu/Relu_output_0_Relu",
        "/flat/Flatten_output_0_Flatten",
        "logits_Gemm",
    ]
    assert [v.name for v in module.graph.inputs] == ["x"]
    assert {w.name for w in module.graph.weights()} >= {"w", "b", "fc.b"}
    assert module.metadata == {"platform": "ONNX", "state": "TOP_F32", "chip": "ALL"}
    assert [n.op_type for n in module.graph.nodes] == ["Conv", "Relu", "Reshape", "MatMul"]


def test_helper_ops_get_suffixed_unique_names(make_model, tmp_path):
    feeds = {"x": np.zeros((2, 3, 4), np.float32)}
    model = make_model([helper.make_node("Softmax", ["x"], ["y"], axis=1)], feeds, ["y"], opset=11)
    module = OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())
    names = [n.outputs[0].name for n in module.graph.nodes]
    assert names[-1] == "y_Softmax"
    assert all(n.startswith("y_Softmax_") for n in names[:-1])
    assert len(set(names)) == len(names)


def test_reference_outputs_keys_match_value_names(make_model, tmp_path):
    path = _save(_conv_model(make_model), tmp_path)
    fe = OnnxFrontend()
    module = fe.load(path, FrontendOptions())
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    ref = fe.reference_outputs(path, FrontendOptions(), {"x": x}, all_tensors=True)
    ours = Interpreter(module).run({"x": x}, dump_all=True)
    node_names = {n.outputs[0].name for n in module.graph.nodes}
    assert node_names <= set(ref)
    for name in node_names:
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-5, atol=1e-4)
    plain = fe.reference_outputs(path, FrontendOptions(), {"x": x})
    assert list(plain) == ["logits_Gemm"]


def test_dynamic_dims_need_input_shapes(make_model, tmp_path):
    path = _save(_conv_model(make_model, ("N", 3, 8, 8)), tmp_path)
    with pytest.raises(
        ShapeError,
        match=r"input 'x' has dynamic shape \['\?', 3, 8, 8\]; fix it with --input_shapes",
    ):
        OnnxFrontend().load(path, FrontendOptions())
    module = OnnxFrontend().load(path, FrontendOptions(input_shapes=[[2, 3, 8, 8]]))
    assert module.graph.inputs[0].shape == (2, 3, 8, 8)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([[1, 3, 8, 8], [1]], r"gives 2 shape\(s\) but the model has 1 input"),
        ([[1, 3, 8]], r"input 'x': the model's shape \['\?', 3, 8, 8\] has rank 4"),
        (
            [[1, 4, 8, 8]],
            r"input 'x': the model fixes its shape to \['\?', 3, 8, 8\] but --input_shapes "
            r"gives \[1, 4, 8, 8\]",
        ),
    ],
)
def test_input_shapes_errors(make_model, tmp_path, shapes, message):
    path = _save(_conv_model(make_model, ("N", 3, 8, 8)), tmp_path)
    with pytest.raises(ShapeError, match=message):
        OnnxFrontend().load(path, FrontendOptions(input_shapes=shapes))


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model file '.*nope.onnx' not found"):
        OnnxFrontend().load(tmp_path / "nope.onnx", FrontendOptions())


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "x.onnx"
    path.write_text("this is plain text, not a protobuf\n" * 10)
    with pytest.raises(ModelLoadError, match=r"is not an ONNX model"):
        OnnxFrontend().load(path, FrontendOptions())


def test_truncated_file(make_model, tmp_path):
    data = _conv_model(make_model).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"is truncated or corrupt") as info:
        OnnxFrontend().load(path, FrontendOptions())
    assert "\n" not in str(info.value)


def test_external_data_is_loaded_from_the_model_folder(make_model, tmp_path):
    model = _conv_model(make_model)
    folder = tmp_path / "ext"
    folder.mkdir()
    onnx.save(
        model,
        folder / "m.onnx",
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=0,
    )
    assert (folder / "weights.bin").exists()
    x = np.random.default_rng(2).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    fe = OnnxFrontend()
    module = fe.load(folder / "m.onnx", FrontendOptions())
    ours = Interpreter(module).run({"x": x})["logits_Gemm"]
    ref = fe.reference_outputs(folder / "m.onnx", FrontendOptions(), {"x": x})["logits_Gemm"]
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


def test_unsupported_op_names_op_node_and_opset(make_model, tmp_path):
    feeds = {"x": np.zeros((2, 3), np.float32)}
    model = make_model(
        [helper.make_node("Hardmax", ["x"], ["y"], name="hm0")], feeds, ["y"], opset=13
    )
    with pytest.raises(UnsupportedOpError) as info:
        OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())
    msg = str(info.value)
    assert "'Hardmax'" in msg and "(opset 13)" in msg and "'hm0'" in msg and "ONNX" in msg


def test_custom_domain_op_is_unsupported(tmp_path):
    node = helper.make_node("FancyOp", ["x"], ["y"], domain="com.example", name="f")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]
    )
    with pytest.raises(UnsupportedOpError, match=r"com.example.FancyOp"):
        OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())


def test_register_converter_adds_an_op(make_model, tmp_path):
    def convert_myrelu_v1(ctx, node):
        return ctx.emit("Relu", [ctx.value(node, 0)], {}, node=node)

    register_converter("MyRelu", 1, convert_myrelu_v1, domain="org.test")
    assert get_converter("MyRelu", 1, "n", "org.test") is convert_myrelu_v1
    node = helper.make_node("MyRelu", ["x"], ["y"], domain="org.test")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("org.test", 1)]
    )
    module = OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())
    out = Interpreter(module).run({"x": np.array([-1, 0, 2], np.float32)})["y_MyRelu"]
    np.testing.assert_array_equal(out, [0, 0, 2])


def test_converter_versions_follow_the_opset(make_model):
    assert get_converter("Clip", 9, "n").__name__ == "convert_clip_v6"
    assert get_converter("Clip", 13, "n").__name__ == "convert_clip_v11"
    assert get_converter("Softmax", 12, "n").__name__ == "convert_softmax_v1"
    assert get_converter("ReduceMean", 17, "n").__name__ == "convert_reducemean_v1"
    assert get_converter("ReduceMean", 18, "n").__name__ == "convert_reducemean_v18"


def test_output_names_cut_the_graph(make_model, tmp_path):
    path = _save(_conv_model(make_model), tmp_path)
    opts = FrontendOptions(output_names=["/relu/Relu_output_0"])
    module = OnnxFrontend().load(path, opts)
    assert [n.op_type for n in module.graph.nodes] == ["Conv", "Relu"]
    assert [v.name for v in module.graph.outputs] == ["/relu/Relu_output_0_Relu"]
    x = np.random.default_rng(3).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    ref = OnnxFrontend().reference_outputs(path, opts, {"x": x})
    ours = Interpreter(module).run({"x": x})
    np.testing.assert_allclose(
        ours["/relu/Relu_output_0_Relu"], ref["/relu/Relu_output_0_Relu"], rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ModelLoadError, match=r"output 'nope' is not a tensor of the model"):
        OnnxFrontend().load(path, FrontendOptions(output_names=["nope"]))


def test_inputs_that_are_initializers_are_weights(make_model, tmp_path):
    model = _conv_model(make_model)
    model.graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3]))
    module = OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())
    assert [v.name for v in module.graph.inputs] == ["x"]
    assert module.graph.nodes[0].inputs[1].is_const


@pytest.mark.parametrize("ir_version", [3, 7, 10])
def test_old_ir_versions_load(make_model, tmp_path, ir_version):
    model = _conv_model(make_model)
    model.ir_version = ir_version
    module = OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())
    assert len(module.graph.nodes) == 4


def test_too_old_opset_is_rejected(make_model, tmp_path):
    feeds = {"x": np.zeros(3, np.float32)}
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], feeds, ["y"], opset=6)
    with pytest.raises(ModelLoadError, match=r"opset 6; sophonc converts opset 7"):
        OnnxFrontend().load(_save(model, tmp_path), FrontendOptions())


def test_frontend_module_imports_without_onnx():
    code = (
        "import sys; import sophonc_frontend_onnx.frontend as f; "
        "assert f.OnnxFrontend.name == 'onnx'; "
        "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_errors_are_sophon_errors_with_one_line(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(SophonError) as info:
        OnnxFrontend().load(path, FrontendOptions())
    assert "\n" not in str(info.value)
