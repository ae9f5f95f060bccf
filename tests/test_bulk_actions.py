"""Bulk actions in /system-tickets, as an agent does it: tick rows on the page, choose an
action, Apply. Each ticket changes through the service (its card redrawn, its audit trail
written), and the list says per ticket what was done and what was refused, and why."""

from __future__ import annotations

from bot.app import Casedesk
from bot.services.status import Priority, Status
from slack_double import SlackDouble
from slack_double.people import Modal, Person
from tests.conftest import SUPPORT, People
from tests.desk_teams import BILLING_CHANNEL, file, make_teams


def open_all(person: Person) -> Modal:
    modal = person.open_modal("/system-tickets")
    person.double.wait_for(lambda: "Loading" not in str(modal.view["blocks"]), what="the list")
    return modal


def report(modal: Modal) -> str:
    return next((b["text"]["text"] for b in modal.view["blocks"] if b.get("block_id") == "ticket_list_report"), "")


def test_three_ticked_and_closed_one_refused_by_the_state_machine(desk: Casedesk, double: SlackDouble, people: People) -> None:
    cards = [file(double, people.reporter, "Bug", f"Broken thing {i}", f"TCK-00000{i}", SUPPORT) for i in (1, 2, 3)]
    people.agent.click(cards[1], "Close")
    double.wait_for(lambda: "Closed" in double.current(cards[1]).all_text(), what="TCK-000002 closed")

    modal = open_all(people.agent)
    for number in ("TCK-000001", "TCK-000002", "TCK-000003"):
        modal.tick(number)
    modal.pick("Close").click("Apply to selected")
    said = report(modal)
    assert said.startswith("*Close*: 2 done, 1 refused"), said
    assert "✅ TCK-000001: Closed" in said and "✅ TCK-000003: Closed" in said
    assert "⛔ TCK-000002: TCK-000002 is already Closed. Nothing changed." in said
    double.wait_for(lambda: all("Closed" in double.current(cards[i]).all_text() for i in (0, 2)), what="the cards redrawn")
    for card in (cards[0], cards[2]):
        double.wait_thread_reply(card, "closed")
    assert [desk.deps.tickets.get(t).status for t in (1, 2, 3)] == [Status.CLOSED] * 3
    closes = [e for t in (1, 3) for e in desk.deps.tickets.events(t) if e.to_value == Status.CLOSED.value]
    assert [e.actor_id for e in closes] == [people.agent.id] * 2
    assert sum(1 for e in desk.deps.tickets.events(2) if e.to_value == Status.CLOSED.value) == 1


def test_each_ticket_is_checked_as_if_clicked_on_its_card(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    file(double, people.reporter, "Bug", "Support's", "TCK-000001", SUPPORT)
    file(double, people.reporter, "Data problem", "Billing's", "TCK-000002", BILLING_CHANNEL)
    modal = open_all(teams.frank)
    assert "TCK-000002" not in str(modal.view["blocks"])  # Billing's: not in Frank's list
    modal.tick("TCK-000001")
    # A payload forged to tick it anyway is checked ticket by ticket, as a click on its card.
    forged = {"type": "checkboxes", "selected_options": [{"text": {"type": "plain_text", "text": "x"}, "value": "2"}]}
    modal.opened.values["pick:2"] = {"ticket_list_pick": forged}
    modal.pick("Priority: High").click("Apply to selected")
    said = report(modal)
    assert said.startswith("*Priority: High*: 1 done, 1 refused"), said
    assert "⛔ TCK-000002: TCK-000002 is in the Billing queue" in said
    assert desk.deps.tickets.get(1).priority is Priority.HIGH
    assert desk.deps.tickets.get(2).priority is Priority.MEDIUM
    # Nothing ticked: said, nothing changed.
    fresh = open_all(teams.frank)
    fresh.pick("Resolve").click("Apply to selected")
    assert "Tick the tickets" in report(fresh)
    assert desk.deps.tickets.get(1).status is Status.OPEN
