"""The Timeline says when a mail was not believed: an `unverified` audit event (a mail
whose sender could not be authenticated) is a line of its own, with the reason under it."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.settings import Settings, load_settings
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env, email_env
from tests.mail_samples import TRUSTED_AUTHSERV, mail


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_TRUSTED_AUTHSERV": TRUSTED_AUTHSERV, "EMAIL_ACK": "false"}
    return load_settings(env)


def test_the_timeline_shows_an_unauthenticated_admin_mail_and_why(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, _ = mail_servers
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    forged = mail("Re: Printer", "I'm closing this case.", sender="Boss <boss@example.com>", message_id="<cc@attacker.test>", in_reply_to="<first@customer.test>")
    imap.append(forged)
    assert "1 threaded" in email_poll(desk.deps)

    env = people.agent.click(double.current(card), "Timeline")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    [entry] = [b["text"]["text"] for b in modal.view["blocks"] if b["type"] == "section" and "🛡️" in b["text"]["text"]]
    head, why = entry.split("\n", 1)
    assert head.startswith("🛡️ A mail from boss@example.com could not be authenticated; treated as a customer's · ")
    assert why.startswith("> boss@example.com is an ADMIN_EMAILS address, but this mail is not authenticated")
    assert "no admin powers" in why
    assert "unverified by" not in str(modal.view)
