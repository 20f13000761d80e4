"""BM1684X: lowering to the chip's arithmetic, bmodel codegen and a simulator."""
