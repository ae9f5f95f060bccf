"""Files shared in Slack Connect channels arrive as stubs: a message event there carries
each file as ``{"id", "file_access": "check_file_info"}`` without its name, type or link,
and ``files.info`` gives the rest.

The stubs are resolved before the message's attachments are recorded, on the way to the
message's ack, so the lookups run side by side and are waited for at most ``LOOKUP_WAIT``
in all. A file whose lookup fails or is late is recorded by its raw id (nothing else is
known of it); the message is stored all the same.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

STUB = "check_file_info"
LOOKUP_WAIT = 1.0  # seconds for all of a message's lookups: the message is acked within 3 s
LOOKUP_THREADS = 4


def is_stub(file: dict[str, Any]) -> bool:
    return file.get("file_access") == STUB and bool(file.get("id"))


class FileStubs:
    def __init__(self, client: WebClient, wait: float = LOOKUP_WAIT) -> None:
        self._client = client
        self._wait = wait
        self._pool = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="casedesk-files")

    def resolve(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The message's files, each stub replaced by the full file where ``files.info``
        answers in time (a stub that stays has only its id)."""
        lookups: dict[str, Future[dict[str, Any] | None]] = {
            str(f["id"]): self._pool.submit(self._info, str(f["id"])) for f in files if is_stub(f)
        }
        if not lookups:
            return files
        deadline = time.monotonic() + self._wait
        resolved = []
        for f in files:
            lookup = lookups.get(str(f.get("id"))) if is_stub(f) else None
            found = None
            if lookup is not None:
                try:
                    found = lookup.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    log.info("files.info %s took longer than %.1f s: the file is recorded by its id", f["id"], self._wait)
            resolved.append(found or f)
        return resolved

    def _info(self, file_id: str) -> dict[str, Any] | None:
        try:
            return dict(self._client.files_info(file=file_id)["file"])
        except SlackApiError as err:
            log.info("files.info %s failed (%s): the file is recorded by its id", file_id, err.response.get("error"))
        except Exception:  # Slack unreachable: the message is stored all the same
            log.warning("files.info %s failed: the file is recorded by its id", file_id, exc_info=True)
        return None
