"""Hook plugins: registration, ops and converters from plugins, misspelled hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from sophonc.errors import PluginLoadError
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.plugins.hookspecs import hookimpl
from sophonc.plugins.manager import hooks, make_plugin_manager, set_plugin_manager


@pytest.fixture
def fresh_manager() -> Iterator[Any]:
    pm = make_plugin_manager(autoload=False)
    set_plugin_manager(pm)
    yield pm
    set_plugin_manager(None)


def test_detect_frontend_takes_the_first_answer(fresh_manager: Any) -> None:
    class Passes:
        @hookimpl
        def sophon_detect_frontend(self, path: Any) -> str | None:
            return None

    class Claims:
        @hookimpl
        def sophon_detect_frontend(self, path: Any) -> str | None:
            return "caffe" if str(path).endswith(".prototxt") else None

    fresh_manager.register(Passes())
    fresh_manager.register(Claims())
    assert hooks().sophon_detect_frontend(path="a.prototxt") == "caffe"
    assert hooks().sophon_detect_frontend(path="a.onnx") is None


def test_a_misspelled_hook_is_a_clear_error(fresh_manager: Any) -> None:
    class Typo:
        @hookimpl
        def sophon_detect_frontends(self, path: Any) -> None:
            return None

    fresh_manager.register(Typo())
    with pytest.raises(Exception, match=r"sophon_detect_frontends"):
        fresh_manager.check_pending()


def test_a_broken_hook_module_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenEntryPoint:
        name = "broken"
        value = "broken_pkg.hooks"

        def load(self) -> Any:
            raise ImportError("No module named 'broken_pkg'")

    monkeypatch.setattr("sophonc.plugins.manager.entry_points", lambda group: [BrokenEntryPoint()])
    with pytest.raises(PluginLoadError, match=r"hook plugin 'broken'.*SOPHON_DISABLE_PLUGINS"):
        make_plugin_manager(autoload=True)
    monkeypatch.setenv("SOPHON_DISABLE_PLUGINS", "broken")
    make_plugin_manager(autoload=True)  # blocked before loading: no error


def test_plugins_can_add_ops_and_converters(fresh_manager: Any, tmp_path: Any) -> None:
    """A plugin adds a core op and an ONNX converter for a custom-domain op."""
    import onnx
    from onnx import TensorProto, helper

    from sophonc.api import FrontendOptions
    from sophonc.interp import Interpreter
    from sophonc.ops.registry import get_schema, register_op
    from sophonc_frontend_onnx import registry as onnx_registry
    from sophonc_frontend_onnx.frontend import OnnxFrontend

    def infer(node: Node) -> Sequence[TensorType]:
        x = node.inputs[0]
        assert x is not None
        return [x.type]

    def square(node: Node, inputs: Sequence[Any]) -> Sequence[Any]:
        return [np.square(inputs[0])]

    class AcmePlugin:
        @hookimpl
        def sophon_register_converters(self, frontend: str, register: Callable[..., Any]) -> None:
            if frontend == "onnx":
                register(
                    "Square",
                    1,
                    lambda ctx, node: [ctx.emit1("AcmeSquare", [ctx.value(node, 0)], node=node)],
                    "com.acme",
                )

    register_op("AcmeSquare", infer, replace=True)(square)
    fresh_manager.register(AcmePlugin())
    monkey_loaded = onnx_registry._loaded
    onnx_registry._loaded = False  # make the frontend ask the hooks again
    try:
        graph = helper.make_graph(
            [helper.make_node("Square", ["x"], ["y"], domain="com.acme")],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.acme", 1)],
        )
        onnx.save(model, str(tmp_path / "acme.onnx"))
        module = OnnxFrontend().load(tmp_path / "acme.onnx", FrontendOptions())
    finally:
        onnx_registry._loaded = monkey_loaded or onnx_registry._loaded
    assert get_schema("AcmeSquare").kernel is square
    x = np.arange(4, dtype=np.float32).reshape(2, 2)
    out = Interpreter(module).run({"x": x})
    np.testing.assert_array_equal(out["y_Square"], x * x)
