"""Atomic writes: the file appears whole or not at all, with the mode a plain open() would give it."""
from __future__ import annotations

import os
import stat

import pytest

from dataprep.atomic import open_atomic, write_json_atomic


def test_written_file_has_the_umask_mode_and_no_temp_left(tmp_path):
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "a.json", {"x": [1, 2.5]})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").read_bytes().replace(b" ", b"").replace(b"\n", b"") == b'{"x":[1,2.5]}'
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_crash_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "b.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with open_atomic(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]
