"""Scenario text to Python data, strictly: UTF-8 only, and a key given twice is an error.

YAML and JSON both let the last of two equal keys win silently (``epochs: 15`` … ``epochs: 1``
trains one epoch). Here a repeated key in one mapping is refused in one line naming both
lines. YAML merge keys (``<<: *defaults``) still override as YAML means them to.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from pathlib import Path
from typing import Any

from kenning_tasks.errors import ScenarioError


def read_text(path: Path) -> str:
    """The file's text, or one line saying why it cannot be a scenario."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory; a scenario is a YAML or JSON file") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read it: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "a scenario is a YAML or JSON text file") from None
    if "\0" in text:
        raise ScenarioError(f"{path}: holds a NUL byte at offset {text.index(chr(0))}; a "
                            "scenario is a YAML or JSON text file, not binary data")
    return text


def duplicate_key(path: Path, key: Any, line: int, first_line: int) -> ScenarioError:
    return ScenarioError(f"{path}: line {line}: duplicate key {key!r} (first given on line "
                         f"{first_line}); give each key once")


def load_yaml(path: Path, text: str) -> Any:
    """``yaml.safe_load`` that refuses a key given twice in one mapping."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:
                    continue  # an unhashable key: the base constructor says so
                if first != key_node.start_mark.line + 1:
                    raise duplicate_key(path, key, key_node.start_mark.line + 1, first)
            return super().construct_mapping(node, deep)

    return yaml.load(text, Loader=StrictLoader)


def load_json(path: Path, text: str) -> Any:
    """``json.loads`` that refuses a key given twice in one object."""
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any,
                     object_hook: Any, object_pairs_hook: Any, memo: Any) -> Any:
        text, start = s_and_end
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None,
                                             lambda items: items, memo)
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            _raise_json_duplicate(path, text, start, scan_once)
        return dict(pairs), end

    decoder.parse_object = parse_object  # type: ignore[assignment]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner skips the hook
    return decoder.decode(text)


def _raise_json_duplicate(path: Path, text: str, start: int, scan_once: Any) -> None:
    """Walk the (valid) object starting after ``{`` at ``start`` to find the lines."""
    whitespace = json.decoder.WHITESPACE
    seen: dict[str, int] = {}
    position = whitespace.match(text, start).end()
    while text[position] == '"':
        key, position = json.decoder.scanstring(text, position + 1)
        line = text.count("\n", 0, position) + 1
        if key in seen:
            raise duplicate_key(path, key, line, seen[key])
        seen[key] = line
        position = whitespace.match(text, position).end() + 1  # the ':'
        position = whitespace.match(text, position).end()
        _, position = scan_once(text, position)
        position = whitespace.match(text, position).end()
        if text[position] == ",":
            position = whitespace.match(text, position + 1).end()
