"""Test helpers for the int8 runtime and the C code generator."""
