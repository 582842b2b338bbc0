"""The domain stays pure: no framework is imported anywhere under dist/domain."""

from __future__ import annotations

import ast
from pathlib import Path

import dist.domain

FRAMEWORKS = {"sqlalchemy", "starlette", "uvicorn", "cyclopts", "alembic", "psycopg", "rich", "httpx"}


def test_domain_imports_no_framework() -> None:
    offenders = []
    for path in Path(dist.domain.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in FRAMEWORKS]
    assert offenders == []
