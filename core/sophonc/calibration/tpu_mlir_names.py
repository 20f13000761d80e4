"""Names TPU-MLIR's own rewrites give tensors, so our tables cover them too.

TPU-MLIR's top-level optimisation moves a Permute below the Slices that split
its result (attention's q/k/v split: ``Transpose → Slice → Squeeze``). The new
Slice and Squeeze outputs are named ``<name>_r_new`` and the Permute placed
before each reader ``<squeeze>_r_new_r_permute_for_<reader>``. Those tensors
hold the same values as ours (only the layout moved), so their table rows are
ours; without them the official ``model_deploy`` stops at an op it finds no
calibration for. Extra rows are harmless: TPU-MLIR ignores names it lacks.
"""

from __future__ import annotations

from sophonc.ir.module import Module


def rewrite_aliases(module: Module) -> list[tuple[str, str]]:
    """``(TPU-MLIR's name, our tensor's name)`` pairs for moved-permute patterns."""
    pairs: list[tuple[str, str]] = []
    for node in module.graph.nodes:
        if node.op_type != "Slice":
            continue
        for out in node.outputs:
            pairs.append((f"{out.name}_r_new", out.name))
            for reader in out.consumers():
                if reader.op_type != "Reshape":
                    continue
                squeezed = reader.outputs[0]
                pairs.append((f"{squeezed.name}_r_new", squeezed.name))
                for user in squeezed.consumers():
                    alias = f"{squeezed.name}_r_new_r_permute_for_{user.outputs[0].name}"
                    pairs.append((alias, squeezed.name))
    return pairs
