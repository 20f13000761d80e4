"""ONNX frontend for sophonc: ONNX models into the core top-level IR."""
