"""The card's Timeline and Reply by email buttons keep to the team rule: an agent works
their teams' tickets and those assigned to them, an admin all; an agent of another team
is refused, on the button and on a forged submission alike."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.settings import Settings, load_settings
from db.models import OutboundEmail
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env, email_env
from tests.desk_teams import BILLING_CHANNEL, CARLA, file, make_teams
from tests.mail_samples import mail
from tests.test_email_intake import count


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false"})


def test_an_agent_of_another_team_is_refused_the_timeline(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    card = file(double, people.reporter, "Data problem", "Billing's ticket", "TCK-000001", BILLING_CHANNEL)
    teams.frank.click(card, "Timeline")
    refusal = teams.frank.wait_ephemeral("Billing queue")
    assert refusal.startswith("TCK-000001 is in the Billing queue: only its team's agents")
    assert all("Timeline" not in c.args["view"]["title"]["text"] for c in double.workspace.calls_to("views.open"))
    # Its team's agent and an admin see it.
    env = teams.carla.click(card, "Timeline")
    assert teams.carla.modal_from(env.payload["trigger_id"]).title == "Timeline · TCK-000001"
    env = people.agent.click(card, "Timeline")
    assert people.agent.modal_from(env.payload["trigger_id"]).title == "Timeline · TCK-000001"
    # Once assigned to it, the agent of the other team sees it too.
    desk.deps.tickets.reassign(1, CARLA, CARLA, others=[teams.frank.id])
    env = teams.frank.click(double.current(card), "Timeline")
    assert teams.frank.modal_from(env.payload["trigger_id"]).title == "Timeline · TCK-000001"


def test_an_agent_of_another_team_cannot_reply_by_email(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    teams = make_teams(desk, double)
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")  # no rule names its mailbox: the Support team's
    teams.carla.click(card, "Reply by email")
    assert teams.carla.wait_ephemeral("Support queue").startswith("TCK-000001 is in the Support queue")
    assert double.workspace.calls_to("views.open") == []
    # A forged submission of the modal, opened by Support's Frank, is refused by the service too.
    env = teams.frank.click(card, "Reply by email")
    modal = teams.frank.modal_from(env.payload["trigger_id"])
    modal.type("Your reply", "forged")
    payload = modal.submission_payload()
    payload["user"] = teams.carla.user_object()
    modal.submit(payload)
    double.wait_for(lambda: len([e for e in teams.carla.ephemerals() if "Support queue" in e]) == 2, what="the second refusal")
    assert count(desk.engine, OutboundEmail) == 0 and smtp.received == []
    # Frank, of its team, replies.
    modal = teams.frank.modal_from(teams.frank.click(card, "Reply by email").payload["trigger_id"])
    modal.type("Your reply", "On it.")
    assert modal.submit() is None
    smtp.wait(1)
