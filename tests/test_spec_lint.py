"""Spectral lints every spec with the repository's ruleset (.spectral.yaml): no errors.

The ruleset is Spectral's recommended OpenAPI rules plus Skymock's own (an operationId and a summary
on every operation, every operation's 4xx responses documented with an error body, every example
valid). One Spectral run lints all the specs (a Node start-up costs a second or two; eight of them
would cost more than the linting); each spec's test reads its own results from it.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tools import program

ROOT = Path(__file__).resolve().parent.parent
RULESET = ROOT / ".spectral.yaml"
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml"))
INSTALL = "npm install --prefix .ci/node @stoplight/spectral-cli@6 and put .ci/node/node_modules/.bin on PATH"
ERROR = 0   # Spectral's severities: 0 error, 1 warning, 2 information, 3 hint


def spectral_lint(documents: list[Path], out: Path) -> list[dict]:
    """Spectral's results (its JSON format) for ``documents`` linted with the repository's ruleset."""
    spectral = program("spectral", INSTALL)
    report = out / "spectral.json"
    done = subprocess.run([spectral, "lint", *map(str, documents), "--ruleset", str(RULESET),
                           "--format", "json", "--output", str(report), "--fail-severity", "error", "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    # 0: no errors, 1: errors found (in the report); anything else is Spectral failing to run
    assert done.returncode in (0, 1) and report.exists(), \
        f"spectral exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(report.read_text())


def where(result: dict) -> str:
    line = result.get("range", {}).get("start", {}).get("line", -1) + 1
    return f"line {line} {'.'.join(map(str, result['path']))}"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[Path, list[dict]]:
    """Every spec's results, from one Spectral run over all of them."""
    found = spectral_lint(SPEC_FILES, tmp_path_factory.mktemp("spectral"))
    by_spec: dict[Path, list[dict]] = {path: [] for path in SPEC_FILES}
    for result in found:
        by_spec.setdefault(Path(result["source"]).resolve(), []).append(result)
    return by_spec


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_spectral_finds_no_error(path, results):
    errors = [r for r in results[path.resolve()] if r["severity"] == ERROR]
    assert not errors, f"{path.name}: {len(errors)} Spectral error(s) with .spectral.yaml:\n" + "\n".join(
        f"  {r['code']} at {where(r)}: {r['message']}" for r in errors)


BROKEN = """\
openapi: 3.0.3
info:
  title: Broken on purpose
  version: "1"
servers:
  - url: http://127.0.0.1:1
tags:
  - name: things
paths:
  /things/{id}:
    get:
      tags: [things]
      description: No operationId, no summary, a 404 without a body and an example that is not a Thing.
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: The thing
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
              example: {id: "seven"}
        "404":
          description: No such thing
  /things:
    post:
      operationId: create_thing
      tags: [things]
      summary: A create that never says how it refuses
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id:
          type: integer
          example: seven
"""


def test_the_ruleset_catches_what_it_is_there_for(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    found = spectral_lint([spec], tmp_path)
    errors: dict[str, set[str]] = {}
    for result in found:
        if result["severity"] == ERROR:
            errors.setdefault(result["code"], set()).add(".".join(map(str, result["path"])))
    expected = {
        "operation-operationId": "paths./things/{id}.get",
        "operation-summary": "paths./things/{id}.get",
        "operation-4xx-response-body": "paths./things/{id}.get.responses.404",
        "operation-4xx-response": "paths./things.post.responses",
        "oas3-valid-media-example": "paths./things/{id}.get.responses.200.content.application/json.example",
        "oas3-valid-schema-example": "components.schemas.Thing.properties.id.example",
    }
    for code, path in expected.items():
        assert any(p.startswith(path) for p in errors.get(code, ())), \
            f"{code} did not report an error at {path}; errors: {errors}"
    # the GET documents a 4xx (if without a body), so it does not count as an operation without one
    assert errors["operation-4xx-response"] == {"paths./things.post.responses"}
