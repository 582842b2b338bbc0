"""db.json is read as a stream, item by item; anything that is not JSON is refused with where it breaks."""

from __future__ import annotations

import io
from typing import Any

import pytest

from dist.domain.errors import DistError
from dist.persistence.legacy import jsonstream
from dist.persistence.legacy.jsonstream import LegacyDocument


def read(text: str | bytes) -> list[tuple[str, Any]]:
    data = text.encode() if isinstance(text, str) else text
    document = LegacyDocument(io.BytesIO(data), "db.json")
    return [(name, None if items is None else list(items)) for name, items in document.members()]


def test_members_and_items_in_file_order() -> None:
    text = '{"apps": [{"id": 1}, {"id": 2}], "note": "x", "audit": [],\n "tokens": [{"s": [1.5, true, null]}]}'

    assert read(text) == [
        ("apps", [{"id": 1}, {"id": 2}]),
        ("note", None),
        ("audit", []),
        ("tokens", [{"s": [1.5, True, None]}]),
    ]


def test_items_across_read_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_SIZE", 7)
    items = [{"id": n, "notes": "ü" * n, "n": 10**n} for n in range(1, 30)]
    text = (
        '{"releases": ['
        + ", ".join(f'{{"id": {i["id"]}, "notes": "{i["notes"]}", "n": {i["n"]}}}' for i in items)
        + "]}"
    )

    assert read(text) == [("releases", items)]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"apps": [1, 2', "line 1, column 15"),
        ('{"apps": [1,]}', "line 1, column 13"),
        ('{\n  "apps": [1 2]}', "line 2, column 14"),
        ('{"apps": [NaN]}', "NaN"),
        ('{"apps": [1e999]}', "1e999"),
        ('{"apps": []} trailing', "line 1, column 14"),
        (b'{"apps": ["\xff"]}', "not UTF-8"),
    ],
)
def test_broken_json_is_refused_with_its_place(text: str | bytes, where: str) -> None:
    with pytest.raises(DistError) as refused:
        read(text)

    assert refused.value.code == "legacy.invalid"
    assert "db.json is not valid JSON" in refused.value.message and where in refused.value.message


@pytest.mark.parametrize("text", ["", "[]", '"apps"'])
def test_a_document_that_is_not_an_object_is_refused(text: str) -> None:
    with pytest.raises(DistError) as refused:
        read(text)

    assert refused.value.message == "db.json does not hold a JSON object"
