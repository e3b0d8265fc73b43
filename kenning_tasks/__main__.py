"""Command line: ``python -m kenning_tasks COMMAND``, also installed as the
``kenning-tasks`` command (``console_main``).

Commands: run, clean, list, info, why, validate, verify, cache, diff, synthetic-data, debug.

Listing and describing blocks reads their declarations only; no framework is imported.
"""

from __future__ import annotations

import argparse
import sys

from kenning_tasks import registry
from kenning_tasks.errors import KenningTasksError, format_error


def _split_scenario(args: list[str]) -> tuple[str | None, list[str]]:
    scenario, rest = None, []
    for arg in args:
        if arg.startswith("scenario="):
            scenario = arg.partition("=")[2]
        else:
            rest.append(arg)
    return scenario, rest


def cmd_list(group: str | None) -> int:
    families = [group] if group else list(registry.BLOCKS)
    for family in families:
        if family not in registry.BLOCKS:
            raise KenningTasksError(f"unknown group {family!r}; allowed: "
                                    + ", ".join(registry.BLOCKS))
        print(f"{family}:")
        for name in registry.BLOCKS[family]:
            cls = registry.find_block(family, name)
            installed = "" if cls.dependencies_installed() else "  [dependencies missing]"
            print(f"  {name:<22} {cls.summary()}{installed}")
    return 0


def block_info(name: str) -> list[str]:
    for family, blocks in registry.BLOCKS.items():
        if name in blocks:
            cls = registry.find_block(family, name)
            break
    else:
        raise KenningTasksError(f"unknown block {name!r}; see `python -m kenning_tasks list`")
    lines = [f"{name} ({family}): {cls.summary()}", f"  class: {cls.__module__}.{name}"]
    accepts = getattr(cls, "ACCEPTS", None)
    if accepts:
        lines.append(f"  accepts formats: {', '.join(accepts)}")
    if family == "model_wrapper":
        lines.append(f"  produces format: {cls.FORMAT}")
    if family == "optimizer":
        lines.append(f"  phases: {', '.join(cls.PHASES)}")
    versions = cls.tool_versions()
    if versions:
        lines.append("  requires: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    lines.append("  parameters:" if cls.PARAMETERS else "  parameters: none")
    for param in cls.PARAMETERS:
        schema = param.to_schema()
        default = "required" if param.required else f"default {schema['default']!r}"
        allowed = f"; allowed: {', '.join(map(repr, param.enum))}" if param.enum else ""
        phase = f" [{param.phase}]" if param.phase else ""
        lines.append(f"    {param.name} ({schema['type']}, {default}{allowed}){phase}: "
                     f"{param.description}")
    return lines


def main(argv: list[str] | None = None, prog: str = "python -m kenning_tasks") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["run"], ["clean"]):  # doit's options follow: not argparse's (console.py)
        from kenning_tasks import console

        try:
            return console.run(argv[1:], command=argv[0])
        except KenningTasksError as error:
            print(format_error(error), file=sys.stderr)
            return 2
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the pipeline (doit run; see `run --help`)")
    commands.add_parser("clean", help="remove what the selected stages wrote (doit clean)")
    listing = commands.add_parser("list", help="list blocks, optionally of one group")
    listing.add_argument("group", nargs="?", choices=list(registry.BLOCKS))
    info = commands.add_parser("info", help="parameters and formats of one block")
    info.add_argument("block")
    why = commands.add_parser("why", help="explain which stages would rerun and why")
    why.add_argument("args", nargs="*", help="[scenario=NAME] [stage ...]")
    validate = commands.add_parser("validate", help="validate scenarios without running")
    validate.add_argument("args", nargs="*", help="[scenario=NAME|a,b|all]")
    from kenning_tasks import verify_cli
    from kenning_tasks.cache import cli as cache_cli
    from kenning_tasks.ci import diff as diff_cli
    from kenning_tasks.datasets.synthetic import cli as synthetic_cli
    from kenning_tasks.mcu import debug as debug_cli

    cache_cli.configure(commands.add_parser("cache", help="status, push, pull, gc, clear"))
    synthetic_cli.add_parser(commands)
    debug_cli.add_parser(commands)
    diff_cli.add_parser(commands)
    verify_cli.add_parser(commands)
    options = parser.parse_args(argv)
    try:
        if options.command == "cache":
            return cache_cli.run(options)
        if options.command == "synthetic-data":
            return synthetic_cli.run(options)
        if options.command == "debug":
            return debug_cli.run(options)
        if options.command == "diff":
            return diff_cli.run(options)
        if options.command == "verify":
            return verify_cli.run(options)
        if options.command == "list":
            return cmd_list(options.group)
        if options.command == "info":
            print("\n".join(block_info(options.block)))
            return 0
        from kenning_tasks.graph import Graph

        spec, rest = _split_scenario(options.args)
        graph = Graph(spec)
        if options.command == "validate":
            for pipeline in graph.pipelines:
                scenario = pipeline.scenario
                steps = [s.describe(scenario) for s in (*scenario.convert_steps,
                         *scenario.quantize_steps, *scenario.compile_steps)]
                gated = "".join(f"; gate {g.metric} {g.comparison}" for g in scenario.gates)
                print(f"{pipeline.name}: ok ({'; '.join(steps)}{gated})")
            return 0
        from kenning_tasks.explain import explain

        print("\n".join(explain(graph, rest or None)))
        return 0
    except KenningTasksError as error:
        print(format_error(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from kenning_tasks.expected_failures import INTERRUPTED

        print(f"error: {INTERRUPTED}", file=sys.stderr)
        return 130


def console_main() -> int:
    """The ``kenning-tasks`` console script (pyproject.toml)."""
    return main(prog="kenning-tasks")


if __name__ == "__main__":
    sys.exit(main())
