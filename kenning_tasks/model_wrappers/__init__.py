"""Model wrapper blocks: build and train a model in a native framework."""
