"""Report blocks: the scenario's top-level ``report`` (Kenning's MarkdownReport)."""
