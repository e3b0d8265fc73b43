"""Protocol blocks: how the host talks to a target (Kenning's protocol block)."""
