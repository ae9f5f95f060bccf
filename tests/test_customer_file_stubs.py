"""Files in Slack Connect channels: the message event carries a stub of each file
(``file_access: check_file_info``), resolved with ``files.info`` before the attachment
is recorded. A lookup that fails or is late records the file by its raw id, and the
message is stored all the same."""

from __future__ import annotations

import time

from sqlalchemy import Engine, select

from bot.app import Casedesk
from db.models import Attachment, CaseMessage
from slack_double import SlackDouble
from tests.conftest import SUPPORT
from tests.customers import shared
from tests.test_customer_channels import ACME, CUSTOMER, SHARED, settings  # noqa: F401 - the fixture


def attachments(engine: Engine) -> list[tuple[str, str | None, str | None, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Attachment.name, Attachment.url, Attachment.content_type, Attachment.size).order_by(Attachment.id))
        return [(str(n), u, c, int(s)) for n, u, c, s in rows]


def test_a_customers_file_stub_is_resolved_before_it_is_recorded(desk: Casedesk, double: SlackDouble, engine: Engine) -> None:
    shared(desk, double)
    kim = double.external_person(CUSTOMER, ACME, "kim")
    asked = kim.say(SHARED, "Here is the error", files=["error.png"])
    double.wait_message(SUPPORT, "TCK-000001")
    [file_id] = list(double.workspace.files)
    assert [c.args["file"] for c in double.workspace.calls_to("files.info")] == [file_id]
    [(name, url, _type, size)] = attachments(engine)
    assert name == "error.png" and url is not None and url.endswith(f"{file_id}/error.png") and size == 1024

    # In the thread too: the reply's file is resolved as well.
    kim.say(SHARED, "and the log", thread=asked, files=["export.log"])
    double.wait_for(lambda: len(attachments(engine)) == 2 or None, what="the reply's file")
    assert attachments(engine)[1][0] == "export.log"


def test_a_failed_or_slow_lookup_records_the_raw_id_and_keeps_the_message(
    desk: Casedesk, double: SlackDouble, engine: Engine
) -> None:
    shared(desk, double)
    kim = double.external_person(CUSTOMER, ACME, "kim")
    double.web_api.fail("files.info", "file_not_found")
    kim.say(SHARED, "Screenshot attached", files=["screen.png"])
    double.wait_message(SUPPORT, "TCK-000001")
    first = sorted(double.workspace.files)[0]
    assert attachments(engine) == [(first, None, None, 0)]

    double.web_api.delay("files.info", 4.0)  # longer than the message may wait for it
    started = time.monotonic()
    kim.say(SHARED, "Another one", files=["again.png"])  # returns once the event is acked
    assert time.monotonic() - started < 3.0
    double.wait_for(lambda: len(attachments(engine)) == 2 or None, what="the second file recorded")
    second = next(f for f in double.workspace.files if f != first)
    assert attachments(engine)[1] == (second, None, None, 0)
    with engine.connect() as conn:
        assert {"Screenshot attached", "Another one"} <= set(conn.scalars(select(CaseMessage.body)))


def test_our_own_channels_files_come_whole(desk: Casedesk, double: SlackDouble, engine: Engine) -> None:
    """No stub outside a shared channel: files.info is not asked."""
    double.person("U0REPORTR", "rita").say(SHARED, "See attached", files=["report.pdf"])  # not shared yet
    double.wait_message(SUPPORT, "TCK-000001")
    assert attachments(engine)[0][0] == "report.pdf"
    assert double.workspace.calls_to("files.info") == []
