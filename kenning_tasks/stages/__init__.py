"""Pipeline stages, one module each; ``catalog.STAGES`` lists them in pipeline order."""
