"""A download made on click survives other sessions' runs for GRACE_S (dashboard/frame/download_grace.py).

Streamlit's own media file manager and storage, as the server uses them: a deferred
download is made (as when the browser asks for it), then other sessions finish runs,
each calling remove_orphaned_files. Without the grace period the file is gone after two.
"""

import pytest
from streamlit.runtime import media_file_manager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from dashboard.frame import download_grace


@pytest.fixture()
def manager(monkeypatch):
    monkeypatch.setattr(media_file_manager, "_get_session_id", lambda: "session-a")
    # Streamlit's own class, even when the app (which installs the grace) ran in this process.
    monkeypatch.setattr(media_file_manager, "MediaFileMetadata", download_grace.LingeringMetadata.__bases__[0])
    storage = MemoryMediaFileStorage("/media")
    return MediaFileManager(storage), storage


def made_on_click(manager: MediaFileManager, storage: MemoryMediaFileStorage) -> str:
    placeholder = manager.add_deferred(lambda: b"a,b\n1,2\n", "text/csv", "coords", "list.csv")
    url = manager.execute_deferred(placeholder)
    file_id = url.rsplit("/", 1)[1].split(".")[0]
    assert storage.get_file(file_id).content == b"a,b\n1,2\n"
    return file_id


def other_sessions_finish_runs(manager: MediaFileManager, runs: int) -> None:
    for _ in range(runs):
        manager.remove_orphaned_files()


def test_without_the_grace_a_busy_server_deletes_the_file_before_the_browser_fetches_it(manager):
    manager, storage = manager
    file_id = made_on_click(manager, storage)
    other_sessions_finish_runs(manager, 2)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(file_id)


def test_with_the_grace_the_file_outlives_other_runs_then_goes(manager, monkeypatch):
    manager, storage = manager
    download_grace.install()
    clock = [1000.0]
    monkeypatch.setattr(download_grace.time, "monotonic", lambda: clock[0])
    file_id = made_on_click(manager, storage)
    other_sessions_finish_runs(manager, 50)
    assert storage.get_file(file_id).content == b"a,b\n1,2\n"
    clock[0] += download_grace.GRACE_S + 1
    other_sessions_finish_runs(manager, 2)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(file_id)
