"""A file made for a download button stays fetchable for a while, however busy the server is.

Our download buttons make their file on click (``data=callable``): Streamlit runs the
callable, stores the bytes and hands the browser a URL to fetch them. That stored file
belongs to no session, and Streamlit deletes such files at the second end of any
session's script run after it was made. With a handful of people browsing, two runs end
within the moment between "file made" and "browser fetches it", and the download is
cancelled (seen under load: bench/load.py, tests/e2e/test_load_browser.py).

``install()`` gives every downloadable file a grace period, GRACE_S from its creation,
before it can be marked for deletion; after that Streamlit's own clean-up goes on as
before. It replaces the metadata class Streamlit's media file manager creates, which is
the one place that decides; tests/dashboard/frame/test_download_grace.py pins the behaviour, so an
upgrade of Streamlit that changes it fails a test instead of failing users.
"""

import time

from streamlit.runtime import media_file_manager
from streamlit.runtime.media_file_storage import MediaFileKind

GRACE_S = 120.0  # a browser on a slow link, behind a busy server, still fetches within this


class LingeringMetadata(media_file_manager.MediaFileMetadata):
    """Streamlit's file metadata, whose downloadable files refuse deletion while young."""

    def __init__(self, kind: MediaFileKind = MediaFileKind.MEDIA) -> None:
        super().__init__(kind)
        self.created = time.monotonic()

    def mark_for_delete(self) -> None:
        if self.kind == MediaFileKind.DOWNLOADABLE and time.monotonic() - self.created < GRACE_S:
            return
        super().mark_for_delete()


def install() -> None:
    """Idempotent: call once at start-up (dashboard/app.py)."""
    media_file_manager.MediaFileMetadata = LingeringMetadata
