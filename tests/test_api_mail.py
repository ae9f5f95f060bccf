"""The API's reply to a requester named by address goes out by email (SMTP on loopback),
threaded with the case's number, and is kept on the case as the token's message."""

from __future__ import annotations

import pytest

from bot.settings import Settings, load_settings
from mail_double.servers import ImapServer, Received, SmtpServer
from slack_double import SlackDouble
from tests.conftest import SUPPORT, base_env, email_env
from tests.test_api import Api, api, quick_webhooks  # noqa: F401 - the API fixtures, with this module's settings


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false"})


def test_a_reply_to_a_requester_by_address_is_mailed(
    api: Api, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]  # noqa: F811
) -> None:
    _imap, smtp = mail_servers
    opened = api.post("/api/v1/cases", {"requester": "Ana@Example.com", "details": "My invoice is wrong."})
    assert opened.json()["requester"] == "ana@example.com"
    double.wait_message(SUPPORT, "TCK-000001")
    assert api.post("/api/v1/cases/1/replies", {"body": "We have corrected it."}).status_code == 201

    def mailed() -> list[Received] | None:
        found = [m for m in smtp.received if m.recipients == ["ana@example.com"] and "We have corrected it." in str(m.message)]
        return found or None

    [sent] = double.wait_for(mailed, what="the reply by email")
    assert "TCK-000001" in str(sent.message["Subject"])
    messages = api.get("/api/v1/cases/1").json()["messages"]
    assert [(m["via"], m["role"], m["author"]) for m in messages] == [("email", "agent", "api:crm")]
