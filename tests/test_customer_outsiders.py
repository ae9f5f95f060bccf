"""Another organisation's people in a Slack Connect channel act as customers, never as
agents: a payload of an agent's button or modal sent by one of them is refused with one
line and changes nothing, and no agent modal opens for them; the buttons meant for them
work on their own case only."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bot.app import Casedesk
from bot.handlers.message_tickets import SHORTCUT
from bot.handlers.outsiders import REACTION_REFUSED, REFUSED
from bot.services.directory import Role
from db.models import CaseMessage, SatisfactionRating
from slack_double import SlackDouble
from slack_double.people import Modal
from tests.conftest import AGENT, SUPPORT, People
from tests.customers import customer_asks
from tests.test_customer_channels import ACME, CUSTOMER, SHARED, settings  # noqa: F401 - the fixture

JOE = "U0ACMEJOE"


def views_opened(double: SlackDouble) -> int:
    return len(double.workspace.calls_to("views.open"))


def test_an_outsider_replaying_agent_buttons_and_a_modal_is_refused_and_nothing_changes(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    customer_asks(desk, double)
    kim = double.person(CUSTOMER)
    card = double.wait_message(SUPPORT, "TCK-000001")
    # An admin listed Kim as an agent by mistake: her team still decides.
    desk.deps.directory.add_agent(AGENT, CUSTOMER, Role.AGENT)
    assert desk.deps.tickets.is_agent(CUSTOMER)
    before = desk.deps.tickets.get(1)
    opened = views_opened(double)

    for label in ("Assign to Me", "Close", "Resolve", "Reassign", "Reply to requester"):
        kim.click(card, label)
    double.wait_for(lambda: len([t for t in kim.ephemerals() if t == REFUSED]) == 5, what="five refusals")
    assert views_opened(double) == opened  # no modal for her
    assert desk.deps.tickets.get(1) == before

    # A modal an agent opened, submitted by her (its payload copied): refused in the modal itself.
    env = people.agent.click(card, "Resolve")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Resolution note", "done")
    replayed = Modal(double, kim, modal.opened).submission_payload()
    assert replayed["team"]["id"] == ACME and replayed["view"]["app_installed_team_id"] != ACME
    ack = Modal(double, kim, modal.opened).submit(replayed)
    assert ack is not None and ack["response_action"] == "update"
    assert REFUSED in str(ack["view"])
    assert desk.deps.tickets.get(1) == before

    # The message shortcut and the Home tab's admin buttons, their payloads sent by her.
    asked, opened = double.messages(SHARED)[0], views_opened(double)
    kim.shortcut(asked, SHORTCUT)
    people.agent.open_home()
    double.workspace.home_views[CUSTOMER] = people.agent.home()  # type: ignore[assignment]  # the agent's tab, copied
    kim.click_home("Customer channels")
    double.wait_for(lambda: len([t for t in kim.ephemerals() if t == REFUSED]) == 6, what="the shortcut refused")
    kim.wait_dm(REFUSED)  # the Home tab has no channel to answer in
    assert views_opened(double) == opened
    assert desk.deps.tickets.get(1) == before

    # Our agent, on the same card, still works it.
    people.agent.click(card, "Assign to Me")
    double.wait_for(lambda: desk.deps.tickets.get(1).assignee_id == AGENT, what="the agent's assignment")
    assert not [e for e in desk.deps.tickets.events(1) if e.actor_id == CUSTOMER and e.kind != "created"]


def test_an_outsiders_ticket_reaction_files_nothing(desk: Casedesk, double: SlackDouble, people: People) -> None:
    customer_asks(desk, double)
    greeting = people.agent.say(SHARED, "Hi Acme, ask us anything here.")
    double.person(CUSTOMER).react(greeting, "ticket")
    double.person(CUSTOMER).wait_ephemeral(REACTION_REFUSED)
    people.agent.react(greeting, "ticket")  # ours may
    double.wait_message(SUPPORT, "TCK-000002")
    assert desk.deps.tickets.get(2).reporter_id == AGENT


def test_a_customer_rates_their_own_case_and_no_one_elses(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    customer_asks(desk, double)
    joe = double.external_person(JOE, ACME, "joe")
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.resolve(1, AGENT, "Fixed.")
    kim = double.person(CUSTOMER)
    survey = kim.wait_dm("How did we do?")

    joe.click(survey, "😞 1", as_shown=True)  # her survey's button, pressed by a colleague
    joe.wait_ephemeral("Only the person who asked for help can rate it.")
    kim.click(survey, "😄 5")
    double.wait_for(lambda: "You rated TCK-000001 *5/5*" in double.current(survey).all_text(), what="the thanks")
    env = kim.click(double.current(survey), "Add a comment")
    kim.modal_from(env.payload["trigger_id"]).type("Comment", "Quick, thanks.").submit()
    with engine.connect() as conn:
        probe = select(SatisfactionRating.score, SatisfactionRating.comment)
        double.wait_for(lambda: conn.execute(probe).all() == [(5, "Quick, thanks.")] or None, what="her rating")
    assert REFUSED not in kim.ephemerals()


def test_a_payload_without_the_clickers_team_is_judged_by_users_info(desk: Casedesk, double: SlackDouble) -> None:
    customer_asks(desk, double)
    kim = double.person(CUSTOMER)
    desk.deps.directory.add_agent(AGENT, CUSTOMER, Role.AGENT)
    payload = kim.click_payload(double.wait_message(SUPPORT, "TCK-000001"), "Assign to Me")
    del payload["user"]["team_id"]
    double.socket.wait_ack(double.socket.send("interactive", payload), 5.0)
    kim.wait_ephemeral(REFUSED)
    assert [c.args["user"] for c in double.workspace.calls_to("users.info")].count(CUSTOMER) >= 1
    assert desk.deps.tickets.get(1).assignee_id is None


def test_an_outsider_listed_as_an_agent_writes_as_a_customer_in_their_thread(
    desk: Casedesk, double: SlackDouble, engine: Engine
) -> None:
    asked = customer_asks(desk, double)
    desk.deps.directory.add_agent(AGENT, CUSTOMER, Role.AGENT)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.person(CUSTOMER).say(SHARED, "I'm closing this case.", thread=asked)
    line = double.wait_thread_reply(card, "closing this case")
    assert line.text.startswith(f"💬 <@{CUSTOMER}> added to TCK-000001")
    with engine.connect() as conn:
        assert conn.execute(select(CaseMessage.role).where(CaseMessage.body == "I'm closing this case.")).scalar_one() == "customer"
    ticket = desk.deps.tickets.get(1)
    assert ticket.status.value == "open" and ticket.first_response_at is None
