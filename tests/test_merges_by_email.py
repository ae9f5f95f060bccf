"""A case that came by email merged into another: its attachments move with its messages,
its requester is told by mail where the conversation continues, and their next mail in its
thread lands on the primary."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.services.status import Status
from bot.settings import Settings, load_settings
from db.models import Attachment
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env, email_env
from tests.desk_teams import file
from tests.mail_samples import CUSTOMER, TRUSTED_AUTHSERV, mail
from tests.test_links_merges import bodies, link


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_TRUSTED_AUTHSERV": TRUSTED_AUTHSERV})


def test_an_email_case_merged_tells_its_requester_by_mail_and_their_next_mail_lands_on_the_primary(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    primary = file(double, people.reporter, "Bug", "The office printer jams", "TCK-000001", SUPPORT)
    imap.append(mail(attachments=[("jam.txt", "text/plain", b"error 42")]))
    email_poll(desk.deps)
    dup = double.wait_message(SUPPORT, "TCK-000002")
    [ack] = smtp.wait(1)

    assert link(double, people.agent, dup, "Duplicate of (merge into it)", "TCK-000001") is None
    double.wait_for(lambda: "Merged in: TCK-000002" in double.current(primary).all_text(), what="the primary's card")
    with desk.engine.connect() as conn:
        assert conn.execute(select(Attachment.ticket_id, Attachment.name)).all() == [(1, "jam.txt")]
    assert bodies(desk, 1) == ["It jams on every page.\nPlease help."]
    email_poll(desk.deps)  # sends what is owed
    told = smtp.wait(2)[1]
    assert told.recipients == [CUSTOMER]
    assert "continues in TCK-000001" in bytes(told.message.get_payload(decode=True)).decode()

    imap.append(
        mail("Re: Printer", "Still jammed today.", message_id="<second@customer.test>", in_reply_to=ack.message["Message-ID"])
    )
    assert "1 threaded" in email_poll(desk.deps)
    assert "Still jammed today." in bodies(desk, 1)
    assert desk.deps.tickets.get(2).status is Status.CLOSED
