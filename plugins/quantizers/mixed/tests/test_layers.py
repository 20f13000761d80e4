"""Which ops are candidates: data movement never is, a Concat only when it rescales."""

from __future__ import annotations

from importlib.metadata import entry_points

from sophonc.ir.node import Node
from sophonc.ir.types import QuantType, TensorType
from sophonc.ir.value import Value
from sophonc_quant_mixed.cli import qtable_command
from sophonc_quant_mixed.layers import is_move


def value(name: str, scale: float) -> Value:
    v = Value(name, TensorType("f32", (1, 4, 2, 2)))
    v.quant = QuantType("i8", (scale,), (0,))
    return v


def concat(scales: list[float], out_scale: float) -> Node:
    inputs = [value(f"x{i}", s) for i, s in enumerate(scales)]
    return Node("Concat", inputs, [value("y", out_scale)], {"axis": 1})


def test_pure_data_movement_is_never_a_candidate() -> None:
    x = value("x", 0.1)
    for op in ("Reshape", "Transpose", "Slice", "MaxPool", "Identity", "Split"):
        assert is_move(Node(op, [x], [value(f"{op}_y", 0.1)]))
    assert is_move(Node("Resize", [x], [value("r", 0.1)], {"mode": "nearest"}))
    assert not is_move(Node("Resize", [x], [value("l", 0.1)], {"mode": "linear"}))
    assert not is_move(Node("Conv", [x], [value("c", 0.1)]))


def test_a_concat_moves_only_inputs_already_at_its_scale() -> None:
    assert is_move(concat([0.1, 0.1], 0.1))
    assert not is_move(concat([0.1, 0.3], 0.3))


def test_the_command_is_a_plugin_command_and_a_console_script() -> None:
    (command,) = entry_points(group="sophon.commands", name="qtable")
    assert command.load() is qtable_command
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts["run_qtable"] == scripts["run_qtable.py"] == "sophonc_quant_mixed.cli:run_qtable"
