"""Named pass pipelines that hook plugins may edit."""

from __future__ import annotations

from sophonc.ir.module import Module
from sophonc.passes.common.activation_fusion import ActivationFusionPass
from sophonc.passes.common.affine_folding import AffineIntoConvPass
from sophonc.passes.common.batchnorm_folding import BatchNormFoldPass
from sophonc.passes.common.constant_folding import ConstantFoldingPass
from sophonc.passes.common.dead_code_elimination import DeadCodeEliminationPass
from sophonc.passes.common.division_by_constant import DivisionByConstantPass
from sophonc.passes.common.hard_activation_fusion import HardActivationFusionPass
from sophonc.passes.common.identity_elimination import IdentityEliminationPass
from sophonc.passes.common.layer_norm_fusion import LayerNormFusionPass
from sophonc.passes.common.matmul_bias_fusion import MatMulBiasFusionPass
from sophonc.passes.common.pointwise_conv_merge import PointwiseConvMergePass
from sophonc.passes.common.shape_inference import ShapeInferencePass
from sophonc.passes.common.topological_sort import TopologicalSortPass
from sophonc.passes.infra import PassBase, PassManager

CANONICALIZE = "canonicalize"


def canonicalize_passes() -> list[PassBase]:
    """The default ``canonicalize`` list, before hooks edit it."""
    return [
        TopologicalSortPass(),
        ShapeInferencePass(),
        ConstantFoldingPass(),
        IdentityEliminationPass(),
        BatchNormFoldPass(),
        LayerNormFusionPass(),
        DivisionByConstantPass(),
        AffineIntoConvPass(),
        MatMulBiasFusionPass(),
        PointwiseConvMergePass(),
        ActivationFusionPass(),
        HardActivationFusionPass(),
        DeadCodeEliminationPass(),
    ]


def build_pipeline(name: str, passes: list[PassBase], *, fixed_point: bool) -> PassManager:
    """A manager over ``passes`` after every ``sophon_configure_pipeline`` hook edited it."""
    from sophonc.plugins.manager import hooks

    hooks().sophon_configure_pipeline(name=name, passes=passes)
    return PassManager(passes, fixed_point=fixed_point)


def canonicalize(module: Module) -> Module:
    """Run the ``canonicalize`` pipeline to a fixed point; returns the module."""
    manager = build_pipeline(CANONICALIZE, canonicalize_passes(), fixed_point=True)
    return manager.run(module).module
