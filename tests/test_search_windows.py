"""A search finds exactly the newest matches of its words, whichever of its windows of ticket
numbers holds them (PostgreSQL reads the newest tickets first, in windows sized from a
sample; SQLite walks its index newest first), and its list's total comes with its page."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from bot.services import gin_search, queries
from bot.services.gin_search import window_ranges
from bot.services.queries import TicketFilter
from bot.services.tickets import NewTicket
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER
from tests.desk_teams import FRANK, make_teams

# Tickets 1 to 30; "walrus" in two of the newest four and in four older ones, below the
# first two windows; "gull" in all; "narwhal" in one old ticket only.
WALRUS = {2, 5, 8, 11, 27, 29}
NARWHAL = {3}


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search keeps its newest 3 matches and samples the newest 4 tickets: windows a few
    tickets wide, as a million tickets make them a hundred thousand wide."""
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 3)
    monkeypatch.setattr(gin_search, "SAMPLE", 4)


def seed(desk: Casedesk) -> None:
    for number in range(1, 31):
        words = ["gull", "ticket"] + ["walrus"] * (number in WALRUS) + ["narwhal"] * (number in NARWHAL)
        new = NewTicket(reporter_id=REPORTER, campaign="Billing", issue_type="Bug", priority="medium", details=" ".join(words))
        assert desk.deps.tickets.create(new)[0].id == number


def found(desk: Casedesk, words: str, viewer: str = AGENT, offset: int = 0) -> tuple[set[int], int]:
    page = desk.deps.queries.page(viewer, TicketFilter(text=words), offset=offset)
    return {t.id for t in page.tickets}, page.total


def test_the_newest_matches_are_found_when_the_first_window_holds_too_few(
    desk: Casedesk, double: SlackDouble, small_windows: None
) -> None:
    seed(desk)
    # The sample (27-30) holds two: the first window (22-30) is guessed to hold three and
    # holds two; the second (13-21) none; the last, down to the first ticket, the third.
    assert found(desk, "walrus") == ({29, 27, 11}, 3)
    assert found(desk, "walr") == ({29, 27, 11}, 3)  # as a partial word too


def test_a_common_word_is_read_from_the_newest_tickets_only(desk: Casedesk, double: SlackDouble, small_windows: None) -> None:
    seed(desk)
    assert found(desk, "gull") == ({30, 29, 28}, 3)
    assert found(desk, "gull walrus") == ({29, 27, 11}, 3)


def test_a_word_the_sample_misses_is_looked_up_among_all(desk: Casedesk, double: SlackDouble, small_windows: None) -> None:
    seed(desk)
    assert found(desk, "narwhal") == (NARWHAL, 1)
    assert found(desk, "puffin") == (set(), 0)


def test_a_page_past_the_last_still_counts_what_was_found(desk: Casedesk, double: SlackDouble, small_windows: None) -> None:
    seed(desk)
    assert found(desk, "walrus", offset=20) == (set(), 3)
    assert found(desk, "walrus", offset=2) == ({11}, 3)


def test_an_agent_of_one_team_gets_the_same_matches_and_total(desk: Casedesk, double: SlackDouble, small_windows: None) -> None:
    make_teams(desk, double)  # Frank: an agent of Support, where these tickets are filed
    seed(desk)
    assert found(desk, "walrus", viewer=FRANK) == ({29, 27, 11}, 3)
    assert found(desk, "walrus", viewer=FRANK, offset=20) == (set(), 3)


def test_windows_reach_back_from_the_sample_share_to_the_first_ticket() -> None:
    # A word in 19 of the newest 2,000 of a million: 1,000 matches guessed within 105,263
    # tickets, half as many again to spare, then twice and four times as far, then the rest.
    assert window_ranges(1_000_000, 19, 1000) == [(842_105, None), (684_210, 842_105), (368_420, 684_210), (None, 368_420)]
    # A word in every sampled ticket: narrow windows, at most four.
    ranges = window_ranges(1_000_000, 2000, 1000)
    assert ranges == [(998_500, None), (997_000, 998_500), (994_000, 997_000), (None, 994_000)]
    # None in the sample of a small desk: one window, every ticket.
    assert window_ranges(5_000, 0, 1000) == [(None, None)]
    assert window_ranges(0, 0, 1000) == [(None, None)]
