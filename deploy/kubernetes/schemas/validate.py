"""Validate Kubernetes objects against the schemas in this directory.

Reads a JSON list of {"file", "object"} from standard input, checks each
object against <kind lowercased>.json, and prints one line per problem.
Exits 1 when any object is invalid or has a kind without a schema. The Go
test deploy/deploy_test.go runs it; it needs python3-jsonschema 4.
"""
import json
import pathlib
import sys

import jsonschema

here = pathlib.Path(__file__).parent
schemas = {p.name: json.loads(p.read_text()) for p in here.glob("*.json")}


def make_validator(schema):
    """Return a validator that resolves references between the files."""
    try:
        import referencing  # jsonschema 4.18 and newer
    except ImportError:
        resolver = jsonschema.RefResolver("", schema, store=schemas)
        return jsonschema.Draft202012Validator(schema, resolver=resolver)
    registry = referencing.Registry().with_resources(
        (name, referencing.Resource.from_contents(s)) for name, s in schemas.items())
    return jsonschema.Draft202012Validator(schema, registry=registry)


problems = 0
for doc in json.load(sys.stdin):
    kind = str(doc["object"].get("kind", "")).lower()
    name = kind + ".json"
    if not (here / name).exists():
        print(f"{doc['file']}: kind {kind!r} has no schema in {here}")
        problems += 1
        continue
    validator = make_validator(schemas[name])
    for err in validator.iter_errors(doc["object"]):
        where = "/".join(str(p) for p in err.absolute_path)
        print(f"{doc['file']}: {kind} at /{where}: {err.message}")
        problems += 1
sys.exit(1 if problems else 0)
