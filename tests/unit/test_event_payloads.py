"""Event payloads stay far below SQS's 256 KiB whatever the module's size."""
from __future__ import annotations

import json

from chalicelib.services.events import MAX_EVENT_FILE_LIST_BYTES, file_list


def test_a_small_module_lists_every_file() -> None:
    assert file_list(["a.proto", "b/c.proto"]) == {"files": ["a.proto", "b/c.proto"], "file_count": 2,
                                                   "files_truncated": False}


def test_the_largest_module_lists_the_first_paths_within_the_budget() -> None:
    # Given 5,000 paths of 512 characters (2.5 MB), When they are listed for an event
    paths = [f"{i:04d}/" + "x" * 500 + ".proto" for i in range(5000)]
    listed = file_list(paths)
    # Then the event says how many there are, that the list is cut, and stays within its budget
    assert listed["file_count"] == 5000 and listed["files_truncated"] is True
    assert listed["files"] == paths[:len(listed["files"])] and listed["files"]
    assert len(json.dumps(listed)) <= MAX_EVENT_FILE_LIST_BYTES + 100
