"""convert stage: bring the trained model into the first optimizer's (or runtime's) format."""

from kenning_tasks.stages.chain import chain_stage

STAGE = chain_stage("convert", "Convert the trained model to the format the chain starts with "
                               "(Keras→TFLite/ONNX, PyTorch→ONNX)")
