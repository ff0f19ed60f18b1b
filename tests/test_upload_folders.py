"""Uploaded files do not outlive their use: gone after the import, when the upload is removed, when the
session that made it ends, and (left by a stopped server) when a later upload finds them unused."""

from __future__ import annotations

import gc
import os
import time

import app_support as s
import pytest

from ui import upload_folders


@pytest.fixture
def uploads_root(tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    monkeypatch.setattr(upload_folders, "parent", lambda: root)
    return root


@pytest.fixture
def database(tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    s.demo_db(path, orders=300)
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    return path


def _folders(root):
    return sorted(p.name for p in root.glob("upload-*")) if root.exists() else []


def _upload(at, content: bytes):
    at.get("file_uploader")[0].set_value(("orders.csv", content, "text/csv"))
    return at.run()


def test_a_folder_goes_when_removed_or_when_nothing_holds_it(uploads_root):
    kept, dropped = upload_folders.Folder(), upload_folders.Folder()
    (kept.path / "upload-0.csv").write_text("order_id\n1\n")
    assert _folders(uploads_root) == sorted([kept.path.name, dropped.path.name])
    kept.remove()
    assert kept.removed and not kept.path.exists()
    path = dropped.path
    del dropped
    gc.collect()
    assert not path.exists() and _folders(uploads_root) == []


def test_a_sweep_removes_only_folders_unused_for_an_hour(uploads_root):
    old, fresh = upload_folders.Folder(), upload_folders.Folder()
    hours_ago = time.time() - 2 * 3600
    os.utime(old.path, (hours_ago, hours_ago))
    assert upload_folders.sweep(uploads_root) == [old.path]
    assert _folders(uploads_root) == [fresh.path.name]
    # A folder in use is touched, so the next sweep leaves it.
    os.utime(fresh.path, (hours_ago, hours_ago))
    fresh.touch()
    assert upload_folders.sweep(uploads_root) == []
    # A new upload sweeps what a stopped server left behind.
    os.utime(fresh.path, (hours_ago, hours_ago))
    newer = upload_folders.Folder()
    assert _folders(uploads_root) == [newer.path.name]


def test_the_data_page_keeps_an_upload_only_until_it_is_imported(database, uploads_root):
    at = _upload(s.open_page("data"), s.SAMPLE.read_bytes())
    assert s.problems(at) == []
    (folder,) = _folders(uploads_root)
    assert (uploads_root / folder / "upload-0.csv").read_bytes() == s.SAMPLE.read_bytes()
    at.button(key="data_import").click().run()
    assert s.problems(at) == []
    assert any("20 orders stored" in x.value for x in at.success)
    assert _folders(uploads_root) == []


def test_an_upload_not_imported_goes_with_its_session(database, uploads_root):
    at = _upload(s.open_page("data"), s.SAMPLE.read_bytes())
    assert len(_folders(uploads_root)) == 1
    # The file removed from the upload widget: its folder goes at once.
    at.get("file_uploader")[0].set_value(None)
    at.run()
    assert _folders(uploads_root) == []
    # A session that ends with a file still chosen: the folder goes with the session's state.
    at = _upload(s.open_page("data"), s.SAMPLE.read_bytes())
    assert len(_folders(uploads_root)) == 1
    del at
    gc.collect()
    assert _folders(uploads_root) == []
