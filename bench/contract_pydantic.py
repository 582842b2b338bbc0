"""The pydantic v2 side of bench/contract.py: the same shapes and constraints as its msgspec ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bench.contract import FILENAME_PATTERN, PLATFORM_PATTERN, SHA_PATTERN, SLUG_PATTERN, VERSION_PATTERN


# The filename rule needs a look-ahead, which pydantic's default (Rust) regex engine refuses.
class ArtifactSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")
    filename: Annotated[str, Field(pattern=FILENAME_PATTERN, min_length=1, max_length=255)]
    sha256: Annotated[str, Field(pattern=SHA_PATTERN)]
    platform: Annotated[str, Field(pattern=PLATFORM_PATTERN, max_length=64)] = "any"
    content_type: Annotated[str, Field(max_length=255)] = "application/octet-stream"


class Publish(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")
    version: Annotated[str, Field(pattern=VERSION_PATTERN, max_length=128)]
    artifacts: Annotated[list[ArtifactSpec], Field(min_length=1, max_length=100)]
    notes: Annotated[str, Field(max_length=100_000)] = ""
    channel: Annotated[str | None, Field(pattern=SLUG_PATTERN)] = None


class Artifact(BaseModel):
    filename: str
    platform: str
    sha256: str
    size: int
    content_type: str
    url: str


class Release(BaseModel):
    app: str
    version: str
    notes: str
    status: str
    created_at: datetime
    created_by: str
    artifacts: list[Artifact]


class Page(BaseModel):
    releases: list[Release]
    next_cursor: str | None


class Check(BaseModel):
    release: Release
    artifact: Artifact


def rows(
    body: bytes,
    page: dict[str, Any],
    check: dict[str, Any],
    per_call_us: Callable[[Callable[[], object], int], float],
    rounds: int,
) -> list[tuple[str, str, float]]:
    page_model = Page.model_validate(page)
    check_model = Check.model_validate(check)
    any_json = TypeAdapter(dict[str, Any])
    return [
        ("decode+validate publish body", "pydantic", per_call_us(lambda: Publish.model_validate_json(body), rounds)),
        ("encode page of 50 releases", "pydantic, dicts", per_call_us(lambda: any_json.dump_json(page), rounds)),
        ("encode page of 50 releases", "pydantic, models", per_call_us(lambda: page_model.model_dump_json(), rounds)),
        ("encode update check", "pydantic, dicts", per_call_us(lambda: any_json.dump_json(check), rounds)),
        ("encode update check", "pydantic, models", per_call_us(lambda: check_model.model_dump_json(), rounds)),
    ]
