"""Reading a version upload: multipart/form-data as the contract's curl example, or JSON."""
from __future__ import annotations

from typing import Any

from chalice.app import Request

from chalicelib.api.http import body_bytes, json_object
from chalicelib.domain.errors import BadRequest, InvalidFile, UnsupportedMediaType, ValidationFailed


class Upload:
    """Fields (each with every value it was sent with, in order) and files (path, bytes)."""

    def __init__(self, fields: dict[str, list[Any]], files: list[tuple[str, bytes]]) -> None:
        self.fields = fields
        self.files = files

    def first(self, name: str) -> Any:
        values = self.fields.get(name)
        return values[0] if values else None

    def all(self, *names: str) -> list[Any]:
        return [value for name in names for value in self.fields.get(name, [])]


def read_upload(request: Request) -> Upload:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        return _multipart(content_type, body_bytes(request))
    if media_type in ("application/json", ""):
        return _json(json_object(request))
    raise UnsupportedMediaType(f"Send multipart/form-data or application/json, not '{media_type}'")


def _multipart(content_type: str, raw: bytes) -> Upload:
    from python_multipart.exceptions import FormParserError  # only multipart requests need the parser
    from python_multipart.multipart import create_form_parser

    fields: dict[str, list[Any]] = {}
    files: list[tuple[str, bytes]] = []

    def on_field(field: Any) -> None:
        name = field.field_name.decode("utf-8", "replace")
        fields.setdefault(name, []).append((field.value or b"").decode("utf-8", "replace"))

    def on_file(part: Any) -> None:
        part.file_object.seek(0)
        name = part.file_name.decode("utf-8", "replace") if part.file_name else ""
        files.append((name, part.file_object.read()))

    if "boundary=" not in content_type:
        raise BadRequest("multipart/form-data needs a boundary in its Content-Type")
    try:
        parser = create_form_parser({"Content-Type": content_type.encode()}, on_field, on_file,
                                    config={"MAX_MEMORY_FILE_SIZE": len(raw) + 1, "MAX_BODY_SIZE": len(raw) + 1})
        parser.write(raw)
        parser.finalize()
    except (FormParserError, ValueError) as error:
        raise BadRequest(f"Malformed multipart body: {error}") from None
    return Upload(fields, files)


def _json(body: dict[str, Any]) -> Upload:
    files = body.get("files")
    if not isinstance(files, dict):
        raise ValidationFailed("'files' must be an object of path -> file content", validation_errors=[
            {"field": "files", "code": "REQUIRED" if files is None else "INVALID_TYPE",
             "message": "an object mapping each .proto path to its text"}])
    decoded = []
    for path, content in files.items():
        if not isinstance(content, str):
            raise InvalidFile(f"Content of '{path}' must be a string", details={"path": path})
        try:
            decoded.append((path, content.encode("utf-8")))
        except UnicodeEncodeError:
            raise InvalidFile(f"Content of '{path}' is not valid Unicode text", details={"path": path}) from None
    return Upload({k: [v] for k, v in body.items() if k != "files"}, decoded)


def upload_from_json(body: dict[str, Any]) -> Upload:
    """An already parsed JSON body as an upload (a view that first looked at its other fields)."""
    return _json(body)
