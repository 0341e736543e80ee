"""The per-session upload cap (ui/app.py: cap_uploads_per_session) on a real `moresprudentie app` server.

Streamlit 1.67 takes a PUT to /_stcore/upload_file/<session id>/<file id> for any live session,
whether or not a file uploader is on its page; each file may be up to server.maxUploadSize (1 MB in
the shipped config). The client needs only a session id (sent to it in the websocket's first
`new_session` message) and the XSRF cookie echoed in the `X-Xsrftoken` header. Here a session on
the search page (no uploader) is refused any upload (403); a session on the deliberation page (an
uploader for a saved list) sends files of just under 1 MB: three are stored, the fourth would take
it past 3 MB and is refused with 413; another session is not affected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from _live_app import app_server
from test_hardening import RawSession

pytestmark = pytest.mark.e2e

requests = pytest.importorskip("requests")

FILE_BYTES = 1_000_000  # under maxUploadSize (1 MB = 1,048,576 bytes): one file alone is accepted
CAP = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with app_server(tmp_path_factory.mktemp("upload-cap"), "e2e-upload-cap-server.log") as port:
        yield port


class Session:
    """A live Streamlit session on a page (default: search): its id and the element kinds it showed."""

    def __init__(self, port: int, page: str = "") -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        authority = f"127.0.0.1:{port}"
        self.ws = RawSession(port, [("Host", authority), ("Origin", f"http://{authority}")])
        assert self.ws.accepted
        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_name = page
        self.ws.send(message.SerializeToString())
        self.session_id = ""
        self.elements: set[str] = set()
        while True:
            opcode, payload = self.ws.receive()
            assert opcode != 8, "closed by the server"
            if opcode != 2:
                continue
            forward = ForwardMsg()
            forward.ParseFromString(payload)
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                self.session_id = forward.new_session.initialize.session_id
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                self.elements.add(forward.delta.new_element.WhichOneof("type"))
            elif kind == "script_finished":
                break
        assert self.session_id

    def close(self) -> None:
        self.ws.close()


def _put(port: int, session_id: str, file_id: str, size: int, xsrf: bool = True) -> int:
    """PUT one file of `size` bytes as the browser does (multipart, XSRF cookie + header); the status."""
    health = requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=30)  # sets the XSRF cookie
    found = re.match(r"_streamlit_xsrf=([^;]+)", health.headers.get("Set-Cookie", ""))
    assert found, f"no XSRF cookie: {health.headers}"
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"_streamlit_xsrf={found[1]}"}
    if xsrf:
        headers["X-Xsrftoken"] = found[1]
    response = requests.put(
        f"http://127.0.0.1:{port}/_stcore/upload_file/{session_id}/{file_id}",
        files={"file": (f"{file_id}.bin", b"x" * size, "application/octet-stream")},
        headers=headers,
        timeout=60,
    )
    return response.status_code


def test_a_page_without_an_uploader_takes_no_upload(port: int) -> None:
    session = Session(port)
    try:
        assert "file_uploader" not in session.elements, session.elements  # the search page has none
        assert _put(port, session.session_id, "file-0", 1000) == 403
    finally:
        session.close()


def test_a_session_with_an_uploader_is_refused_past_3_mb(port: int) -> None:
    session = Session(port, "beraad")
    other = Session(port, "beraad")
    try:
        assert "file_uploader" in session.elements, session.elements  # "laad een eerder bewaarde lijst"
        assert _put(port, session.session_id, "no-xsrf", 10, xsrf=False) == 403  # Streamlit's own check
        statuses = [_put(port, session.session_id, f"file-{n}", FILE_BYTES) for n in range(3)]
        assert statuses == [204, 204, 204]  # 3,000,000 bytes held: under the 3 MB cap
        assert 3 * FILE_BYTES <= CAP < 4 * FILE_BYTES
        assert _put(port, session.session_id, "file-3", FILE_BYTES) == 413  # would pass 3 MB
        assert _put(port, session.session_id, "file-4", 200_000) == 413  # 3.2 MB: still too much
        assert _put(port, session.session_id, "file-1", FILE_BYTES) == 204  # a replaced file is not counted twice
        assert _put(port, other.session_id, "file-0", FILE_BYTES) == 204  # the cap is per session
    finally:
        session.close()
        other.close()


def test_one_file_over_max_upload_size_is_refused(port: int) -> None:
    """Streamlit's own per-file limit (server.maxUploadSize = 1 MB in the shipped config)."""
    session = Session(port, "beraad")
    try:
        assert _put(port, session.session_id, "big", 1024 * 1024 + 1) == 413
        assert _put(port, session.session_id, "small", 1000) == 204
    finally:
        session.close()


def test_an_unknown_session_is_refused(port: int) -> None:
    assert _put(port, "not-a-session", "file-0", 1000) == 400
