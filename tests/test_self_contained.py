"""The suite needs nothing outside the repository: a user's fresh clone must pass it."""
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

# Ways a test could reach above the repository: a parent two levels up from tests/, or the
# workspace's shared folder by name.
_OUTSIDE = re.compile(r"parents\[(?:[2-9]|\d\d)\]|\.\./shared|[\"']shared[\"']\s*/")


def test_no_test_reads_a_path_outside_the_repository():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE.search(line) and "_OUTSIDE" not in line:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "tests must not read outside the repository:\n" + "\n".join(offenders)


def test_the_sarif_schema_is_vendored():
    import json

    schema = json.loads((TESTS / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "2.1.0" in schema["title"]
