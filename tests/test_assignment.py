"""Several assignees with one owner, moving a ticket to another team, and handing tickets
back when someone leaves a team: through the double, as people do it."""

from __future__ import annotations

from bot.app import Casedesk
from bot.services.status import Status
from slack_double import SlackDouble
from tests.conftest import AGENT, AGENT2, OUTSIDER, SUPPORT, People
from tests.desk_teams import BILLING_CHANNEL, CARLA, DAVE, ERIN, choose_in_menu, file, make_teams


def test_two_assignees_are_both_told_and_the_card_shows_the_owner_and_the_other(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(desk, double)
    card = file(double, people.reporter, "Data problem", "VAT is wrong", "TCK-000001", BILLING_CHANNEL)
    env = teams.carla.click(card, "Reassign")
    modal = teams.carla.modal_from(env.payload["trigger_id"])
    assert modal.labels() == ["New assignee", "Also assigned", "Comment"]
    modal.pick_user("New assignee", DAVE).pick_users("Also assigned", [ERIN])
    assert modal.submit() is None
    assert f"<@{CARLA}> assigned" in teams.dave.wait_dm("TCK-000001").text
    assert f"<@{CARLA}> assigned" in teams.erin.wait_dm("TCK-000001").text
    double.wait_for(lambda: f"*Assignees*\n<@{DAVE}> (owner), <@{ERIN}>" in double.current(card).all_text())
    double.wait_thread_reply(card, f"reassigned TCK-000001 to <@{DAVE}>")
    double.wait_thread_reply(card, f"assigned <@{ERIN}> beside the owner")
    ticket = desk.deps.tickets.get(1)
    assert (ticket.assignee_id, ticket.assignees, ticket.status) == (DAVE, (DAVE, ERIN), Status.IN_PROGRESS)
    events = desk.deps.tickets.events(1)
    assert [(e.kind, e.from_value, e.to_value) for e in events[1:]] == [
        ("reassigned", None, DAVE), ("status", "open", "in_progress"), ("assignees", None, ERIN),
    ]
    # Erin, already assigned, is not told again when only the others change.
    env = teams.dave.click(card, "Reassign")
    modal = teams.dave.modal_from(env.payload["trigger_id"])
    assert modal.opened.view["blocks"][1]["element"]["initial_users"] == [ERIN]
    modal.pick_user("New assignee", DAVE).pick_users("Also assigned", [ERIN, CARLA])
    assert modal.submit() is None
    teams.carla.wait_dm("TCK-000001")
    double.wait_for(lambda: f"<@{DAVE}> (owner), <@{ERIN}>, <@{CARLA}>" in double.current(card).all_text())
    assert len(teams.erin.dms()) == 1 and len(teams.dave.dms()) == 1


def test_non_agents_chosen_as_owner_or_assignee_get_an_inline_error(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    make_teams(desk, double)
    card = file(double, people.reporter, "Bug", "Broken", "TCK-000001", SUPPORT)
    env = people.agent.click(card, "Reassign")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    ack = modal.pick_user("New assignee", OUTSIDER).submit()
    assert ack is not None and "is not an agent" in ack["errors"]["assignee"]
    ack = modal.pick_user("New assignee", AGENT2).pick_users("Also assigned", [OUTSIDER]).submit()
    assert ack is not None and ack["errors"] == {"others": f"<@{OUTSIDER}> is not an agent: only agents can be assigned."}
    assert not modal.closed
    assert desk.deps.tickets.get(1).assignee_id is None


def test_moving_a_ticket_moves_its_card_and_both_threads_say_so(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_teams(desk, double)
    old = file(double, people.reporter, "Bug", "This is really a billing matter", "TCK-000001", SUPPORT)
    env = choose_in_menu(double, people.agent2, old, "Move to team…")
    modal = people.agent2.modal_from(env.payload["trigger_id"])
    assert modal.title == "Move TCK-000001" and modal.options("Team") == ["Billing"]
    assert modal.choose("Team", "Billing").submit() is None
    line = f"🔀 TCK-000001 moved from *Support* to *Billing* by <@{AGENT2}>."
    new = double.wait_message(BILLING_CHANNEL, "TCK-000001")
    assert double.wait_thread_reply(new, "moved from").text == line
    assert double.wait_thread_reply(old, "moved from").text == line
    double.wait_for(lambda: f"Its card is now in <#{BILLING_CHANNEL}>" in double.current(old).all_text())
    assert double.current(old).button_labels() == []  # the old card has nothing left to click
    assert "*Team*\nBilling" in new.all_text() and "Assign to Me" in new.button_labels()
    ticket = desk.deps.tickets.get(1)
    assert (ticket.team_name, ticket.card_channel, ticket.card_ts) == ("Billing", BILLING_CHANNEL, new.ts)
    assert [(e.kind, e.from_value, e.to_value) for e in desk.deps.tickets.events(1)][-1] == ("moved", "Support", "Billing")


def test_moving_is_refused_to_an_agent_of_another_team(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    card = file(double, people.reporter, "Data problem", "Billing's own", "TCK-000001", BILLING_CHANNEL)
    choose_in_menu(double, teams.frank, card, "Move to team…")
    teams.frank.wait_ephemeral("is in the Billing queue")
    assert double.workspace.calls_to("views.open") and all(
        c.args.get("view", {}).get("callback_id") != "move_ticket" for c in double.workspace.calls_to("views.open")
    )
    assert desk.deps.tickets.get(1).team_name == "Billing"


def test_leaving_a_team_hands_the_tickets_back_with_a_thread_line(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    owned = file(double, people.reporter, "Data problem", "Carla's alone", "TCK-000001", BILLING_CHANNEL)
    shared = file(double, people.reporter, "Data problem", "Carla's with Dave", "TCK-000002", BILLING_CHANNEL)
    helped = file(double, people.reporter, "Data problem", "Dave's, Carla helps", "TCK-000003", BILLING_CHANNEL)
    tickets = desk.deps.tickets
    tickets.assign_to_self(1, CARLA)
    tickets.reassign(2, CARLA, CARLA, others=[DAVE])
    tickets.reassign(3, DAVE, DAVE, others=[CARLA])
    desk.deps.directory.remove_member(AGENT, teams.billing.id, CARLA)
    line = double.wait_thread_reply(owned, "left Billing")
    assert line.text == f"↩️ <@{CARLA}> left Billing, so TCK-000001 is no longer theirs: it is back in the team's queue, Open and unowned."
    double.wait_for(lambda: "🆕 Open" in double.current(owned).all_text() and "_unassigned_" in double.current(owned).all_text())
    assert (tickets.get(1).status, tickets.get(1).assignees) == (Status.OPEN, ())
    double.wait_thread_reply(shared, f"<@{DAVE}> owns it now")
    assert "TCK-000002 is yours now" in teams.dave.wait_dm("is yours now").text
    assert (tickets.get(2).status, tickets.get(2).assignee_id, tickets.get(2).assignees) == (Status.IN_PROGRESS, DAVE, (DAVE,))
    double.wait_thread_reply(helped, f"<@{CARLA}> left Billing and is no longer assigned to TCK-000003")
    assert (tickets.get(3).assignee_id, tickets.get(3).assignees) == (DAVE, (DAVE,))
