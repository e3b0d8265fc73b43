"""Platform blocks: where the model runs (the host, a simulated board, a real board)."""
