"""Print a pip constraints file that pins each runtime dependency at its lowest allowed version.

``make test-oldest`` installs with it, so the lower bounds in pyproject.toml are tested, not
hoped for: the direct dependencies (core and every extra but ``dev``) at their ``>=`` bound,
the rest resolved by pip as usual (uv calls this resolution "lowest-direct"; scikit-learn's
minimum-dependency CI does the same). The test tools of ``dev`` are left free.

    python tools/lowest_requirements.py pyproject.toml > lowest.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# name, optional [extras], then the version specifiers up to a marker (;) if any.
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")


def lowest(requirements: list[str], *, skip: str) -> dict[str, str]:
    """{normalized name: lowest version} over every ``name>=X`` in ``requirements``; a name
    bounded more than once takes its highest lower bound. A dependency without ``>=`` is
    refused: its lowest version would be whatever pip finds first."""
    pins: dict[str, str] = {}
    for text in requirements:
        match = REQUIREMENT.match(text)
        if match is None:
            raise SystemExit(f"cannot read the requirement {text!r}")
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        if name == skip:
            continue
        bound = re.search(r">=\s*([0-9][^,\s]*)", match.group(2))
        if bound is None:
            raise SystemExit(f"{text!r} has no lower bound (>=): give it one in pyproject.toml")
        version = bound.group(1)
        if name not in pins or _key(version) > _key(pins[name]):
            pins[name] = version
    return pins


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def main(path: str) -> None:
    project = tomllib.loads(Path(path).read_text())["project"]
    requirements = list(project["dependencies"])
    for extra, items in project.get("optional-dependencies", {}).items():
        if extra != "dev":
            requirements += items
    for name, version in sorted(lowest(requirements, skip=project["name"]).items()):
        print(f"{name}=={version}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
