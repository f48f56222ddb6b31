"""Local writes through the storage interface: all or nothing, and a wrong path is bad input, not a crash."""

from __future__ import annotations

import pytest

from governance import storage
from governance.errors import InputError


def test_atomic_output_replaces_only_when_the_block_finishes(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), storage.atomic_output(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
    with storage.atomic_output(target) as temporary:
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("write", ["bytes", "output"])
def test_a_parent_that_is_a_file_is_bad_input(tmp_path, write):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    target = blocker / "chart.png"
    with pytest.raises(InputError) as err:
        if write == "bytes":
            storage.write_bytes_atomic(target, b"x")
        else:
            with storage.atomic_output(target) as temporary:
                temporary.write_bytes(b"x")
    assert err.value.reason == "BAD_OUTPUT"
    assert blocker.read_text() == "a file"


def test_a_folder_in_place_of_the_file_is_bad_input(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(InputError) as err, storage.atomic_output(tmp_path / "out.png") as temporary:
        temporary.write_bytes(b"x")
    assert err.value.reason == "BAD_OUTPUT"
