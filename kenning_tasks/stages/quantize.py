"""quantize stage: the quantize phases of the scenario's optimizers (e.g. TFLite int8)."""

from kenning_tasks.stages.chain import chain_stage

STAGE = chain_stage("quantize", "Quantize the model (the optimizers' quantize phases, "
                                "calibrated on the train split)")
