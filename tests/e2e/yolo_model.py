"""A small YOLOv5-style ONNX model built with onnx.helper and seeded random weights.

It has the op mix of the real yolov5s export: Conv(+BN) + SiLU written as
``x * Sigmoid(x)``, a C3-like block with a residual Add and Concat, SPPF (three
chained MaxPools, Concat), nearest Resize upsampling with Concat skips (PAN), and a
three-scale Detect head (Conv → Reshape → Transpose → Sigmoid → box decode with
Split/Mul/Add/Pow and the grid and anchors → Concat → Reshape → Concat), whose
single output joins pixel coordinates and [0, 1] scores as a real export does.
There are no trained YOLO weights on PyPI; seeded weights exercise the same path.
Shared by the e2e tests and the benchmark (loaded by file path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NUM_CLASSES = 4
NUM_ANCHORS = 3
#: YOLOv5's default anchors (pixels) for strides 8, 16, 32.
ANCHORS = np.array(
    [[[10, 13], [16, 30], [33, 23]], [[30, 61], [62, 45], [59, 119]],
     [[116, 90], [156, 198], [373, 326]]], np.float32,
)  # fmt: skip


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"/model.{self.count}/{base}"

    def const(self, base: str, arr: np.ndarray) -> str:
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def node(self, op: str, inputs: list[str], **attrs: object) -> str:
        out = self.name(op) + "_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv(
        self, x: str, cin: int, cout: int, k: int, s: int, *, bn: bool = False, gain: float = 1.4
    ) -> str:
        fan_in = cin * k * k
        w = self.rng.normal(0, gain / np.sqrt(fan_in), (cout, cin, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.1, (cout,)).astype(np.float32)
        ins = [x, self.const("weight", w)]
        if not bn:
            ins.append(self.const("bias", b))
        y = self.node("Conv", ins, kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4)
        if bn:
            scale = self.rng.uniform(0.5, 1.5, cout).astype(np.float32)
            mean = self.rng.normal(0, 0.1, cout).astype(np.float32)
            var = self.rng.uniform(0.5, 1.5, cout).astype(np.float32)
            args = [self.const(n, a) for n, a in (("g", scale), ("b", b), ("m", mean), ("v", var))]
            y = self.node("BatchNormalization", [y, *args], epsilon=1e-3)
        return y

    def silu(self, x: str) -> str:
        return self.node("Mul", [x, self.node("Sigmoid", [x])])

    def cbs(self, x: str, cin: int, cout: int, k: int, s: int, *, bn: bool = False) -> str:
        return self.silu(self.conv(x, cin, cout, k, s, bn=bn))

    def c3(self, x: str, c: int) -> str:
        h = c // 2
        a = self.cbs(x, c, h, 1, 1)
        a = self.node("Add", [a, self.cbs(self.cbs(a, h, h, 1, 1), h, h, 3, 1)])
        b = self.cbs(x, c, h, 1, 1)
        return self.cbs(self.node("Concat", [a, b], axis=1), c, c, 1, 1)

    def sppf(self, x: str, c: int) -> str:
        h = c // 2
        y0 = self.cbs(x, c, h, 1, 1)
        pools = [y0]
        for _ in range(3):
            pools.append(
                self.node("MaxPool", [pools[-1]], kernel_shape=[5, 5], strides=[1, 1], pads=[2] * 4)
            )
        return self.cbs(self.node("Concat", pools, axis=1), 4 * h, c, 1, 1)

    def upsample(self, x: str) -> str:
        scales = self.const("scales", np.array([1, 1, 2, 2], np.float32))
        return self.node(
            "Resize",
            [x, "", scales],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )

    def head(self, x: str, cin: int, hw: int, stride: int, anchors: np.ndarray) -> str:
        """YOLOv5's Detect for one level, with the box decode its ONNX export has.

        ``xy = (2·σ(t) - 0.5 + grid)·stride`` and ``wh = (2·σ(t))²·anchor`` are
        pixels (up to the image size), the objectness and class scores stay in
        [0, 1]: the single output joins very different ranges.
        """
        per = NUM_CLASSES + 5
        y = self.conv(x, cin, NUM_ANCHORS * per, 1, 1, gain=8.0)
        y = self.node("Reshape", [y, self.const("shape", np.array([1, NUM_ANCHORS, per, hw, hw]))])
        y = self.node("Transpose", [y], perm=[0, 1, 3, 4, 2])
        y = self.node("Sigmoid", [y])
        split = self.const("split", np.array([2, 2, per - 4], np.int64))
        parts = [self.name("Split") + f"_output_{i}" for i in range(3)]
        self.nodes.append(
            helper.make_node("Split", [y, split], parts, axis=4, name=parts[0] + "_node")
        )
        xy, wh, conf = parts
        gy, gx = np.meshgrid(np.arange(hw), np.arange(hw), indexing="ij")
        grid = np.stack([gx, gy], -1).reshape(1, 1, hw, hw, 2).astype(np.float32) - 0.5
        two = self.const("two", np.array(2.0, np.float32))
        xy = self.node("Mul", [xy, two])
        xy = self.node("Add", [xy, self.const("grid", grid)])
        xy = self.node("Mul", [xy, self.const("stride", np.array(stride, np.float32))])
        wh = self.node("Mul", [wh, two])
        wh = self.node("Pow", [wh, self.const("pow", np.array(2.0, np.float32))])
        anchor_grid = anchors.reshape(1, NUM_ANCHORS, 1, 1, 2).astype(np.float32)
        wh = self.node("Mul", [wh, self.const("anchor_grid", anchor_grid)])
        y = self.node("Concat", [xy, wh, conf], axis=4)
        return self.node("Reshape", [y, self.const("shape", np.array([1, -1, per], np.int64))])


def build_yolo_style(path: Path, size: int = 640, seed: int = 0) -> Path:
    """Write the model for a ``[1,3,size,size]`` input (size a multiple of 32) to ``path``."""
    b = _Builder(seed)
    x = b.cbs("images", 3, 16, 3, 2, bn=True)  # /2
    x = b.c3(b.cbs(x, 16, 32, 3, 2), 32)  # /4
    p3 = b.c3(b.cbs(x, 32, 64, 3, 2), 64)  # /8
    p4 = b.c3(b.cbs(p3, 64, 128, 3, 2), 128)  # /16
    p5 = b.sppf(b.cbs(p4, 128, 128, 3, 2), 128)  # /32
    t5 = b.cbs(p5, 128, 64, 1, 1)
    u4 = b.c3(b.cbs(b.node("Concat", [b.upsample(t5), p4], axis=1), 192, 64, 1, 1), 64)
    t4 = b.cbs(u4, 64, 32, 1, 1)
    o3 = b.c3(b.cbs(b.node("Concat", [b.upsample(t4), p3], axis=1), 96, 64, 1, 1), 64)
    o4 = b.c3(b.cbs(b.node("Concat", [b.cbs(o3, 64, 32, 3, 2), t4], axis=1), 64, 64, 1, 1), 64)
    o5 = b.c3(b.cbs(b.node("Concat", [b.cbs(o4, 64, 64, 3, 2), t5], axis=1), 128, 128, 1, 1), 128)
    heads = [
        b.head(o3, 64, size // 8, 8, ANCHORS[0]),
        b.head(o4, 64, size // 16, 16, ANCHORS[1]),
        b.head(o5, 128, size // 32, 32, ANCHORS[2]),
    ]
    out = b.node("Concat", heads, axis=1)
    b.nodes[-1].output[0] = "output0"
    out = "output0"
    n_boxes = NUM_ANCHORS * sum((size // s) ** 2 for s in (8, 16, 32))
    graph = helper.make_graph(
        b.nodes,
        "yolo_style",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, n_boxes, NUM_CLASSES + 5])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
