"""The portability export against a real server: the ZIP holds every part the README names,
`data.json` validates against the `data.schema.json` it ships with (jsonschema, Draft 2020-12,
formats checked), which is the repository's `docs/export.schema.json`, and the original
document comes back byte for byte."""
import io
import json
import pathlib
import zipfile

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_export_validates_against_its_schema(api, document):
    answer = api.send("GET", "/api/v1/me/export")
    assert answer.status == 200, answer.describe()
    assert answer.response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert {"data.json", "data.schema.json", "documents.csv", "share-accesses.csv", "connections.csv"} <= names, names
    schema = json.loads(archive.read("data.schema.json"))
    assert schema == json.loads((ROOT / "docs" / "export.schema.json").read_text())
    data = json.loads(archive.read("data.json"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(data)
    exported = next(item for item in data["documents"] if item["id"] == document["id"])
    assert archive.read(exported["files"][0]["path"]) == document["bytes"]
    assert data["account"]["email"] == api.state["main"]["email"]
