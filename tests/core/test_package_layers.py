"""Packages of streamer import each other one way only: no cycle among their module-level imports."""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import streamer

ROOT = Path(streamer.__file__).parent


def _package_imports() -> dict[str, set[str]]:
    """{package: packages its modules import at module level}; a top-level module is its own package."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        package = parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("streamer."):
                target = node.module.split(".")[1]
                if target != package:
                    edges[package].add(target)
    return edges


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(edges[current])
    return False


def test_no_package_import_cycle():
    edges = _package_imports()
    cycles = sorted((a, b) for a in list(edges) for b in edges[a] if _reaches(edges, b, a))
    assert cycles == []


def test_the_checker_sees_a_cycle():
    assert _reaches({"a": {"b"}, "b": {"a"}}, "b", "a")
    assert not _reaches(defaultdict(set, {"a": {"b"}}), "b", "a")


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it():
    probe = "import sys, streamer.cli; print(sorted({'torch', 'cv2', 'onnx', 'av', 'onnxruntime'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"  # so `streamer --help` answers at once
