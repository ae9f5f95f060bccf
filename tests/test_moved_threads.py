"""After a ticket moves to another team, replies in either card's thread join its case:
the old card's thread (people keep writing where they were) and the new one."""

from __future__ import annotations

from bot.app import Casedesk
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People
from tests.desk_teams import BILLING_CHANNEL, choose_in_menu, file, make_teams


def bodies(desk: Casedesk) -> list[str]:
    return [m.body for m in desk.deps.conversations.messages(1)]


def test_replies_in_the_old_and_the_new_cards_threads_join_the_case(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(desk, double)
    old = file(double, people.reporter, "Bug", "This is really a billing matter", "TCK-000001", SUPPORT)
    env = choose_in_menu(double, people.agent2, old, "Move to team…")
    assert people.agent2.modal_from(env.payload["trigger_id"]).choose("Team", "Billing").submit() is None
    new = double.wait_message(BILLING_CHANNEL, "TCK-000001")
    double.wait_thread_reply(old, "moved from")
    people.agent2.say(SUPPORT, "Before the move I asked for the invoice number.", thread=old)
    teams.carla.say(BILLING_CHANNEL, "Billing has it now.", thread=new)
    double.wait_for(lambda: len(bodies(desk)) == 2, what="both replies stored on the case")
    assert sorted(bodies(desk)) == ["Before the move I asked for the invoice number.", "Billing has it now."]
    # The reporter's reply in the old thread counts as theirs on the case too.
    people.reporter.say(SUPPORT, "The invoice is INV-42.", thread=old)
    double.wait_for(lambda: "The invoice is INV-42." in bodies(desk), what="the reporter's reply")
    assert desk.deps.conversations.case_for_thread(SUPPORT, old.ts) == desk.deps.conversations.case_for_thread(
        BILLING_CHANNEL, new.ts
    )
