"""compile stage: the compile phases of the scenario's optimizers, for the runtime."""

from kenning_tasks.stages.chain import chain_stage

STAGE = chain_stage("compile", "Compile the model for the runtime (the optimizers' compile "
                               "phases)")
