"""The pass manager: ordering requirements, fixed points, failures named, hooks."""

from __future__ import annotations

import pytest

from sophonc.errors import IRError, PassError, ShapeError
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.passes.infra import SHAPES, InPlacePass, PassManager, PassResult
from sophonc.plugins.hookspecs import hookimpl
from sophonc.plugins.manager import make_plugin_manager, set_plugin_manager


def tiny_module() -> Module:
    x = Value("x", TensorType("f32", (2, 3)))
    node = Node("Relu", [x], ["y_Relu"], output_types=[TensorType("f32", (2, 3))])
    return Module("m", Graph("g", [x], [node.output], [node]))


class CountDown(InPlacePass):
    """Reports a change ``times`` times, then none (to test the fixed point)."""

    def __init__(self, times: int) -> None:
        self.left = times

    def call(self, module: Module) -> PassResult:
        self.left -= 1
        return PassResult(module, self.left >= 0)


class NeedsShapes(InPlacePass):
    requires = frozenset({SHAPES})

    def call(self, module: Module) -> PassResult:
        return PassResult(module, False)


class GivesShapes(InPlacePass):
    ensures = frozenset({SHAPES})

    def call(self, module: Module) -> PassResult:
        return PassResult(module, False)


class Breaks(InPlacePass):
    def call(self, module: Module) -> PassResult:
        raise ShapeError("the widget does not fit")


class Corrupts(InPlacePass):
    """Leaves a node reading a value nothing defines."""

    def call(self, module: Module) -> PassResult:
        ghost = Value("ghost", TensorType("f32", (1,)))
        module.graph.append(Node("Relu", [ghost], ["z_Relu"]))
        return PassResult(module, True)


def test_fixed_point_repeats_until_nothing_changes() -> None:
    counter = CountDown(3)
    result = PassManager([counter], fixed_point=True).run(tiny_module())
    assert result.modified
    assert counter.left == -1  # three changing rounds and one quiet round


def test_no_fixed_point_names_the_passes_still_changing() -> None:
    with pytest.raises(PassError, match=r"fixed point after 4 rounds.*CountDown"):
        PassManager([CountDown(100)], fixed_point=True, max_rounds=4).run(tiny_module())


def test_a_missing_requirement_names_the_pass_that_establishes_it() -> None:
    with pytest.raises(PassError, match=r"NeedsShapes requires 'shapes'.*ShapeInferencePass"):
        PassManager([NeedsShapes()]).run(tiny_module())
    PassManager([GivesShapes(), NeedsShapes()]).run(tiny_module())


def test_a_failing_pass_is_named_with_the_passes_before_it() -> None:
    manager = PassManager([GivesShapes(), NeedsShapes(), Breaks()])
    with pytest.raises(PassError) as info:
        manager.run(tiny_module())
    text = str(info.value)
    assert "pass Breaks failed on module 'm'" in text
    assert "after GivesShapes, NeedsShapes" in text
    assert "the widget does not fit" in text


def test_a_pass_leaving_broken_ir_is_caught_right_after_it() -> None:
    with pytest.raises(PassError, match=r"Corrupts left module 'm' malformed.*ghost") as info:
        PassManager([GivesShapes(), Corrupts()]).run(tiny_module())
    assert isinstance(info.value.__cause__, IRError)


def test_hooks_observe_every_pass_run() -> None:
    seen: list[tuple[str, str, bool | None]] = []

    class Observer:
        @hookimpl
        def sophon_before_pass_run(self, pass_name: str, module: Module) -> None:
            seen.append(("before", pass_name, None))

        @hookimpl
        def sophon_after_pass_run(self, pass_name: str, module: Module, modified: bool) -> None:
            seen.append(("after", pass_name, modified))

    pm = make_plugin_manager(autoload=False)
    pm.register(Observer())
    set_plugin_manager(pm)
    try:
        PassManager([CountDown(1)], fixed_point=True).run(tiny_module())
    finally:
        set_plugin_manager(None)
    assert seen == [
        ("before", "CountDown", None),
        ("after", "CountDown", True),
        ("before", "CountDown", None),
        ("after", "CountDown", False),
    ]
