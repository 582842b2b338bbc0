"""docs/ stays true: the generated references are what the app and the CLI say today, every route is in the API
reference, and every link in the docs and README leads somewhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.routing import Route

from dist.http.app import ROUTES
from tests.conftest import REPO_ROOT
from tools.docs import DOCS, HELP_COLUMNS, render_api, render_cli, with_block
from tools.openapi_markdown import anchor

BIN = Path(sys.executable).parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")


@pytest.mark.parametrize(("name", "render"), [("api.md", render_api), ("cli.md", render_cli)])
def test_the_generated_reference_is_current(name: str, render: object) -> None:
    current = (DOCS / name).read_text(encoding="utf-8")

    wanted = with_block(current, render(), name)  # type: ignore[operator]

    assert wanted == current, f"docs/{name} is stale: run `make docs` and commit the result"


@pytest.mark.parametrize("command", [["dist", "store", "gc"], ["dist", "db", "upgrade"], ["distd"]])
def test_the_cli_reference_is_what_the_installed_commands_print(command: list[str]) -> None:
    env = {**os.environ, "COLUMNS": HELP_COLUMNS}
    printed = subprocess.run(
        [str(BIN / command[0]), *command[1:], "--help"], capture_output=True, text=True, env=env, check=True
    ).stdout
    lines = "\n".join(line.rstrip() for line in printed.rstrip().splitlines())

    assert f"## {' '.join(command)}\n\n```text\n{lines}\n```" in (DOCS / "cli.md").read_text(encoding="utf-8")


def test_every_route_and_method_is_in_the_api_reference() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = {
        (method, path)
        for methods, path in re.findall(r"^### ([A-Z, ]+) (/\S*)$", text, re.MULTILINE)
        for method in methods.split(", ")
    }

    served = {
        (method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path))
        for route in ROUTES
        if isinstance(route, Route)
        for method in route.methods or ()
    }

    assert served - documented == set(), "routes missing from docs/api.md (and from /api/openapi.json)"


def _targets(document: Path) -> list[str]:
    return LINK.findall(CODE.sub("", FENCE.sub("", document.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("document", ["README.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))])
def test_every_link_leads_somewhere(document: str) -> None:
    source = REPO_ROOT / document
    for target in _targets(source):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        linked = (source.parent / path).resolve() if path else source
        assert linked.is_file() and REPO_ROOT in linked.parents, f"{document}: {target} leads nowhere"
        if fragment:
            headings = HEADING.findall(FENCE.sub("", linked.read_text(encoding="utf-8")))
            assert fragment in {anchor(h) for h in headings}, f"{document}: no heading for {target}"
