"""The BM1684X program: the lowered, chip-level form of a model.

A program is an IR :class:`~sophonc.ir.Module` whose nodes are chip ops (this
package's kernels define their exact arithmetic) and whose values carry the
storage types the chip holds them in (``i8``/``u8`` with a quantized type,
``i32``, ``f16``, ``bf16``, ``f32``). It is what ``sophon deploy`` compares
against the top-level F32 module, what codegen encodes into the bmodel, and what
the simulator decodes and runs again from device memory.
"""
