"""Turn tensor lifetimes of a lowered graph into arena offsets (via planner.plan_arena)."""

from __future__ import annotations

from kenning_tasks.codegen.emit import Layout
from kenning_tasks.codegen.lowering import Step
from kenning_tasks.codegen.planner import Buffer, plan_arena
from kenning_tasks.codegen.reader import Graph

ARENA_ALIGNMENT = 4  # int32/float tensors need word alignment; int8 ones do not care


def buffers_for(graph: Graph, steps: list[Step]) -> tuple[list[Buffer], dict[int, int]]:
    """One Buffer per group of aliased activation tensors and one per step's scratch space.

    Returns the buffers (named 't<root>' / 's<step>') and each tensor's alias root.
    """
    root: dict[int, int] = {}
    for step in steps:
        if step.alias is not None:
            out, inp = step.alias
            root[out] = root.get(inp, inp)

    def find(index: int) -> int:
        return root.get(index, index)

    spans: dict[int, list[int]] = {}
    sizes: dict[int, int] = {}

    def touch(index: int, when: int) -> None:
        tensor = graph.tensors[index]
        if index < 0 or tensor.data is not None:
            return  # constants live in flash
        r = find(index)
        span = spans.setdefault(r, [when, when])
        span[0], span[1] = min(span[0], when), max(span[1], when)
        sizes[r] = max(sizes.get(r, 0), tensor.nbytes)

    # The input is written before step 0 and the output read after the last step.
    touch(graph.inputs[0], -1)
    for i, step in enumerate(steps):
        for index in step.op.inputs + step.op.outputs:
            if index >= 0:
                touch(index, i)
    touch(graph.outputs[0], len(steps))

    buffers = [Buffer(f"t{r}", sizes[r], span[0], span[1]) for r, span in spans.items()]
    buffers += [Buffer(f"s{i}", step.scratch_bytes, i, i)
                for i, step in enumerate(steps) if step.scratch_bytes]
    tensor_roots = {index: find(index) for index in range(len(graph.tensors))}
    return buffers, tensor_roots


def layout_arena(graph: Graph, steps: list[Step]) -> Layout:
    buffers, roots = buffers_for(graph, steps)
    plan = plan_arena(buffers, ARENA_ALIGNMENT)
    offsets = {index: plan.offsets[f"t{r}"] for index, r in roots.items()
               if f"t{r}" in plan.offsets}
    scratch = {steps[i].op.index: plan.offsets[f"s{i}"]
               for i in range(len(steps)) if f"s{i}" in plan.offsets}
    return Layout(offsets=offsets, scratch=scratch, arena_bytes=max(plan.size, ARENA_ALIGNMENT))
