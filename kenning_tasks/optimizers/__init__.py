"""Optimizer blocks: quantize and compile a model, each declaring its formats."""
