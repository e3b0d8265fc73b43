"""Helpers for the data set tests: a real HTTP server in its own process."""
