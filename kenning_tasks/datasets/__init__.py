"""Dataset blocks: produce train/validation/test splits."""
