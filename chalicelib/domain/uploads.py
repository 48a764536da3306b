"""Rules for the files of one version upload, before anything is stored."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chalicelib.domain.errors import DuplicatePath, InvalidFile, NoFiles
from chalicelib.domain.paths import validate_proto_path


@dataclass(frozen=True)
class UploadedFile:
    path: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def validate_upload(files: list[tuple[str, bytes]], max_files: int) -> list[UploadedFile]:
    if not files:
        raise NoFiles("A version needs at least one .proto file: add file fields (multipart) or 'files' (JSON)")
    if len(files) > max_files:
        raise InvalidFile(f"A version may hold at most {max_files} files; this one has {len(files)}",
                          details={"max_files": max_files, "files": len(files)})
    result = []
    for raw_path, content in files:
        path = validate_proto_path(raw_path)
        if not content:
            raise InvalidFile(f"'{path}' is empty", details={"path": path})
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidFile(f"'{path}' is not UTF-8 text, as protoc requires", details={"path": path}) from None
        result.append(UploadedFile(path, content))
    refuse_collisions([f.path for f in result])
    return result


def refuse_collisions(paths: list[str]) -> None:
    """Paths that would land on one place when unpacked anywhere: the same path twice, two paths that
    differ only in case (macOS and Windows fold case), or a file that is also another path's directory."""
    files: dict[str, str] = {}
    for path in paths:
        folded = path.casefold()
        if folded in files:
            same = files[folded] == path
            raise DuplicatePath(
                f"'{path}' appears more than once in this upload" if same else
                f"'{path}' and '{files[folded]}' differ only in case: they collide on case-insensitive file systems",
                details={"path": path} if same else {"paths": [files[folded], path]})
        files[folded] = path
    for path in paths:
        segments = path.casefold().split("/")
        for depth in range(1, len(segments)):
            directory = "/".join(segments[:depth])
            if directory in files:
                raise DuplicatePath(f"'{files[directory]}' is a file, but '{path}' uses it as a directory",
                                    details={"paths": [files[directory], path]})
