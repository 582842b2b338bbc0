"""An OpenAPI 3 document rendered as Markdown: an index of the operations, each operation with its parameters,
body and answers, then every schema as a table of its fields. Reads OpenAPI 3.0 and 3.1 alike."""

from __future__ import annotations

import json
import re
from typing import Any

Schema = dict[str, Any]
METHODS = ("get", "head", "post", "put", "patch", "delete")


def anchor(title: str) -> str:
    """The fragment GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def describe(schema: Schema | None) -> str:
    """A schema in a few words: `string (date-time)`, `array of [Release](#release)`, `integer (1 to 500)`."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{anchor(name)})"
    for combinator, word in (("anyOf", " or "), ("oneOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return word.join(describe(part) for part in schema[combinator])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " or ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kinds = schema.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"array of {describe(schema.get('items'))}")
        elif kind == "object" and "properties" not in schema and isinstance(schema.get("additionalProperties"), dict):
            words.append(f"object of {describe(schema['additionalProperties'])}")
        else:
            words.append(str(kind))
    text = " or ".join(words)
    details = [schema["format"]] if "format" in schema else []
    length = "length " if "minLength" in schema or "maxLength" in schema else ""
    low, high = schema.get("minimum", schema.get("minLength")), schema.get("maximum", schema.get("maxLength"))
    if low is not None and high is not None:
        details.append(f"{length}{low} to {high}")
    elif high is not None:
        details.append(f"{length}≤ {high}")
    elif low is not None:
        details.append(f"{length}≥ {low}")
    if schema.get("nullable"):
        text += " or null"
    return f"{text} ({', '.join(str(d) for d in details)})" if details else text


def _constraints(schema: Schema) -> str:
    pattern = schema.get("pattern")
    return f"pattern `{pattern}`" if pattern and len(pattern) <= 90 else ("a pattern" if pattern else "")


def _operations(document: Schema) -> list[tuple[str, str, Schema, list[str]]]:
    """(path, method, operation, every method it answers) in the document's order; HEAD folded into its GET."""
    found = []
    for path, item in document.get("paths", {}).items():
        methods = [m for m in METHODS if m in item]
        for method in methods:
            if method == "head" and "get" in methods:
                continue
            answered = [method, "head"] if method == "get" and "head" in methods else [method]
            found.append((path, method, item[method], [m.upper() for m in answered]))
    return found


def _operation(path: str, operation: Schema, methods: list[str]) -> list[str]:
    lines = [f"### {', '.join(methods)} {path}", "", operation.get("summary", "").strip()]
    if operation.get("description"):
        lines += ["", operation["description"].strip()]
    if operation.get("security"):
        lines += ["", "Authorization: `Bearer dist_…`."]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["", "| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in parameters:
            schema = p.get("schema", {})
            notes = " ".join(x for x in (p.get("description", ""), _constraints(schema)) if x)
            required = "yes" if p.get("required") else "no"
            lines.append(f"| `{p['name']}` | {p['in']} | {cell(describe(schema))} | {required} | {cell(notes)} |")
    body = operation.get("requestBody")
    if body:
        kinds = ", ".join(f"`{t}`: {describe(c.get('schema'))}" for t, c in body.get("content", {}).items())
        lines += ["", f"Body ({'required' if body.get('required') else 'optional'}): {kinds}"]
    lines += ["", "| status | meaning | body |", "|---|---|---|"]
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {})
        shown = ", ".join(describe(c.get("schema")) for c in content.values()) or "none"
        lines.append(f"| {status} | {cell(answer.get('description', ''))} | {cell(shown)} |")
    return lines


def _schema(name: str, schema: Schema) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    properties = schema.get("properties")
    if not properties:
        return [*lines, describe(schema)]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, sub in properties.items():
        notes = " ".join(x for x in (sub.get("description", ""), _constraints(sub)) if x)
        shown = describe(sub)
        if "properties" in sub:
            shown = "object: " + ", ".join(f"`{k}` {describe(v)}" for k, v in sub["properties"].items())
        lines.append(f"| `{field}` | {cell(shown)} | {'yes' if field in required else 'no'} | {cell(notes)} |")
    return lines


def render_openapi(document: Schema) -> str:
    operations = _operations(document)
    lines = ["## Operations", "", "| method | path | what |", "|---|---|---|"]
    for path, _, operation, methods in operations:
        title = f"{', '.join(methods)} {path}"
        summary = operation.get("summary", "").strip().split(". ")[0].rstrip(".")
        lines.append(f"| [{', '.join(methods)}](#{anchor(title)}) | `{path}` | {cell(summary)} |")
    for path, _, operation, methods in operations:
        lines += ["", *_operation(path, operation, methods)]
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        lines += ["", "## Schemas"]
        for name, schema in schemas.items():
            lines += ["", *_schema(name, schema)]
    return "\n".join(lines)
