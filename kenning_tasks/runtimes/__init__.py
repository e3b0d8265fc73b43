"""Runtime blocks: load a compiled model and run inference on the host."""
