"""Full-text search in the ticket lists (/system-tickets words), through the double: stemmed
words, partial words, ticket numbers, several words at once, relevance then recency; the
index kept in step with the tickets by the database."""

from __future__ import annotations

from sqlalchemy import Engine, text

from bot.app import Casedesk
from bot.services.queries import TicketFilter
from bot.services.tickets import NewTicket
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, OUTSIDER, REPORTER, People
from tests.test_ticket_lists import numbers, open_list


def file(desk: Casedesk, details: str, title: str | None = None, reporter: str = REPORTER) -> str:
    new = NewTicket(reporter_id=reporter, campaign="Billing", issue_type="Bug", priority="medium", details=details, title=title)
    return f"TCK-{desk.deps.tickets.create(new)[0].id:06d}"


def found(desk: Casedesk, people: People, words: str) -> list[str]:
    return numbers(open_list(people.agent, "/system-tickets", words))


def test_words_are_found_in_any_form_of_them(desk: Casedesk, double: SlackDouble, people: People) -> None:
    jamming = file(desk, "The printers keep jamming on every page")
    printing = file(desk, "Printing from the laptop fails")
    file(desk, "Login loop after the update")
    assert found(desk, people, "jammed") == [jamming]
    assert found(desk, people, "printer") == [jamming]
    assert sorted(found(desk, people, "print")) == sorted([jamming, printing])
    assert sorted(found(desk, people, "PRINTING")) == sorted([jamming, printing])  # stemmed to "print"


def test_a_partial_word_finds_the_words_it_starts(desk: Casedesk, double: SlackDouble, people: People) -> None:
    screen = file(desk, "The screen is flickering since Monday")
    file(desk, "Keyboard missing a key")
    assert found(desk, people, "flick") == [screen]
    assert found(desk, people, "screen mon") == [screen]  # the last word as it is being typed
    assert found(desk, people, "scr monday") == []  # the words before it are whole
    assert found(desk, people, "keyb") != [screen]


def test_every_word_must_match(desk: Casedesk, double: SlackDouble, people: People) -> None:
    both = file(desk, "Printer on floor 3 is broken")
    file(desk, "Printer on floor 5 is fine")
    file(desk, "Coffee machine on floor 3")
    assert found(desk, people, "printer 3") == [both]
    assert found(desk, people, "printer floor broken") == [both]
    assert found(desk, people, "printer teapot") == []


def test_a_ticket_number_comes_first_and_numbers_in_the_text_are_found(desk: Casedesk, double: SlackDouble, people: People) -> None:
    first = file(desk, "Invoice 4242 was charged twice")
    second = file(desk, "Mentions ticket 1 in passing")
    assert found(desk, people, first) == [first]
    assert found(desk, people, "1") == [first, second]  # the number itself, then the text that says 1
    assert found(desk, people, "4242") == [first]


def test_relevance_then_recency(desk: Casedesk, double: SlackDouble, people: People) -> None:
    once = file(desk, "A refund was asked for last week, along with a new card and a change of address")
    in_title = file(desk, "Customer writes about an order", title="Refund")
    often = file(desk, "Refund, refund, refund: the refund has not arrived")
    older_twin = file(desk, "Where is my refund")
    newer_twin = file(desk, "Where is my refund")
    ranked = found(desk, people, "refund")
    assert ranked.index(in_title) < ranked.index(once)
    assert ranked.index(often) < ranked.index(once)
    assert ranked.index(newer_twin) == ranked.index(older_twin) - 1  # as relevant: the newer first
    assert sorted(ranked) == sorted([once, in_title, often, older_twin, newer_twin])


def test_query_syntax_in_the_words_is_only_text(desk: Casedesk, double: SlackDouble, people: People) -> None:
    jam = file(desk, "Paper jam in the printer (tray 2)")
    assert found(desk, people, 'jam!!! "(printer" -tray* :') == [jam]
    assert found(desk, people, '"jam" (printer)* +tray^2') == [jam]
    assert found(desk, people, "%_\\") == []


def test_an_agent_searching_sees_only_what_they_may_see(desk: Casedesk, double: SlackDouble, people: People) -> None:
    mine = file(desk, "Refund for the blue plan")
    theirs = file(desk, "Refund for the red plan", reporter=OUTSIDER)
    assert sorted(found(desk, people, "refund")) == sorted([mine, theirs])  # the agent: the whole desk
    reporter = desk.deps.queries.page(REPORTER, TicketFilter(reporter_id=REPORTER, text="refund"))
    assert [t.id for t in reporter.tickets] == [int(mine[4:])]
    assert desk.deps.queries.page(AGENT, TicketFilter(text="refund plan")).total == 2


def test_the_index_follows_a_ticket_whose_text_changes(desk: Casedesk, engine: Engine, double: SlackDouble, people: People) -> None:
    ticket = file(desk, "Printer jams")
    with engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET details = 'Scanner is offline', title = 'Scanner' WHERE id = :id"), {"id": int(ticket[4:])})
    assert found(desk, people, "printer") == []
    assert found(desk, people, "scanner") == [ticket]
    with engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET status = 'closed' WHERE id = :id"), {"id": int(ticket[4:])})
    assert desk.deps.queries.page(AGENT, TicketFilter(text="offline")).total == 1


def test_an_agent_searches_from_the_home_tab(desk: Casedesk, double: SlackDouble, people: People) -> None:
    printer = file(desk, "The printer jams on every page")
    file(desk, "Login loop after the update")
    home = people.agent.open_home()
    assert view_errors(home) == []
    env = people.agent.home_type("Search tickets", "printing")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    double.wait_for(lambda: "Loading" not in str(modal.view["blocks"]), what="the list")
    assert modal.title == "All tickets" and numbers(modal) == [printer]
    # The words are the command's: filters and a bad value answered as /system-tickets would.
    people.agent.home_type("Search tickets", "assignee:nobody printer")
    assert "`assignee:` takes" in people.agent.wait_dm("assignee:").text
    assert "Search tickets" not in str(people.reporter.open_home())  # their own tickets are on the tab
