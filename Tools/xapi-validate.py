#!/usr/bin/env python3
"""Validates xAPI 1.0.3 statements with two independent, published validators.

Usage: xapi-validate.py FILE   (a JSON StatementResult {"statements": [...]} or a list)

1. JSON Schema: the statement schema of ralph (France Universite Numerique's xAPI library,
   PyPI `ralph-malph`), checked by `jsonschema` (Draft 2020-12, with format checks).
2. ralph's own pydantic model of an xAPI statement (`BaseXapiStatement`), which also checks
   rules a schema cannot state (no empty values, platform only on activities, ...).

Prints one line per failure and a summary; exits 1 on any failure or an empty file.
Installed into .venv by Tools/setup.
"""
import json
import sys

import jsonschema
import pydantic
from ralph.models.xapi.base.statements import BaseXapiStatement


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    statements = document["statements"] if isinstance(document, dict) else document
    validator = jsonschema.Draft202012Validator(
        BaseXapiStatement.model_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    failures = 0
    for index, statement in enumerate(statements):
        try:
            for error in validator.iter_errors(statement):
                print(f"statement {index}: schema: {error.json_path}: {error.message}")
                failures += 1
        except RecursionError:
            # An invalid object is tried against every branch of the recursive SubStatement
            # schema; a valid statement never gets here.
            print(f"statement {index}: schema: no branch of the recursive schema matches")
            failures += 1
        try:
            BaseXapiStatement.model_validate(statement)
        except pydantic.ValidationError as error:
            for detail in error.errors():
                print(f"statement {index}: model: {'.'.join(map(str, detail['loc']))}: {detail['msg']}")
                failures += 1
    print(f"{len(statements)} statements, {failures} failures")
    return 1 if failures or not statements else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
