"""Pipeline stages, one module each, in pipeline order (see ``STAGE_ORDER``)."""

STAGE_ORDER = ("dataset", "train", "convert", "quantize", "compile", "firmware", "simulate",
               "flash", "evaluate", "report")
