"""Regenerate tests/fixtures/ from the team's reference files, so the tests never read outside the checkout.

    python tools/vendor_reference.py [--reference ../shared/reference] [--out tests/fixtures]

Writes two files, each naming its source:
- `openai_audio_schemas.json`: the OpenAI OpenAPI schemas the tests validate against (SCHEMAS below
  and every schema they reference), from the audio subset of openai/openai-openapi's openapi.yaml
  (MIT licence). OpenAPI 3.0's `nullable: true` is rewritten as JSON Schema (`anyOf` with null),
  because the description mixes it into 3.1.
- `relay_chat_audio_example.json`: the example chat completion with audio from a relay's public
  "voice reply" page (relay-docs/001_…): the response body only, as the page prints it.

Run it again when the reference changes or a test needs another schema (add it to SCHEMAS).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The schemas tests validate responses and events against; their references are added automatically.
SCHEMAS = (
    "CreateChatCompletionResponse", "CreateChatCompletionStreamResponse", "CreateTranscriptionResponseJson",
    "CreateTranscriptionResponseVerboseJson", "CreateTranscriptionResponseDiarizedJson",
    "CreateTranslationResponseJson", "CreateTranslationResponseVerboseJson", "ErrorResponse",
    "ListModelsResponse", "SpeechAudioDeltaEvent", "SpeechAudioDoneEvent", "TranscriptTextDeltaEvent",
    "TranscriptTextDoneEvent", "CreateSpeechRequest", "CreateTranscriptionRequest", "CreateTranslationRequest",
    "CreateChatCompletionRequest",
)
RELAY_PAGE = "relay-docs/001_91421494d97f7aee.txt"


def nullable_to_anyof(node: Any) -> Any:
    if isinstance(node, list):
        return [nullable_to_anyof(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: nullable_to_anyof(v) for k, v in node.items()}
    if node.pop("nullable", False) is True:
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_refs(x) for x in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(_refs(v) for v in node.values()))


def schema_closure(all_schemas: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    todo, out = list(names), {}
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in all_schemas:
            raise SystemExit(f"schema {name!r} is not in the reference")
        out[name] = all_schemas[name]
        todo.extend(_refs(all_schemas[name]) - out.keys())
    return dict(sorted(out.items()))


def relay_example(page: str) -> dict[str, Any]:
    start = page.index('{\n    "id": "chatcmpl')
    body, _ = json.JSONDecoder().raw_decode(page[start:])
    return body


def main(argv: list[str] | None = None) -> int:
    import yaml

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference"))
    p.add_argument("--out", default=str(ROOT / "tests" / "fixtures"))
    args = p.parse_args(argv)
    ref, out = Path(args.reference), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    doc = yaml.safe_load((ref / "openai-audio-openapi.yaml").read_text(encoding="utf-8"))
    schemas = schema_closure(doc["components"]["schemas"], SCHEMAS)
    vendored = {
        "source": doc["info"]["description"],
        "licence": "MIT (openai/openai-openapi)",
        "generated_by": "tools/vendor_reference.py; edit SCHEMAS there and re-run, do not edit by hand",
        "note": "nullable: true rewritten as anyOf [..., null]",
        "components": {"schemas": nullable_to_anyof(schemas)},
    }
    (out / "openai_audio_schemas.json").write_text(json.dumps(vendored, indent=1, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    example = {
        "source": "a relay's public documentation page 'voice reply' (语音回复, chat completions with audio "
                  "output), example response as printed there",
        "generated_by": "tools/vendor_reference.py",
        "body": relay_example((ref / RELAY_PAGE).read_text(encoding="utf-8")),
    }
    (out / "relay_chat_audio_example.json").write_text(json.dumps(example, indent=1, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")
    print(f"wrote {len(schemas)} schemas and the relay example to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
