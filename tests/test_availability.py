"""Agents say they are away (or until when) on their Home tab, and come back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from bot.app import Casedesk
from slack_double import Person, SlackDouble
from tests.conftest import AGENT, People


def home_text(person: Person) -> str:
    return json.dumps(person.home(), ensure_ascii=False)


def test_an_agent_is_away_then_back(desk: Casedesk, double: SlackDouble, people: People) -> None:
    assert "You are *available*" in json.dumps(people.agent.open_home())
    people.agent.click_home("I'm away")
    double.wait_for(lambda: "You are *away*" in home_text(people.agent), what="the tab to say away")
    person = desk.deps.directory.person(AGENT)
    assert person is not None and not person.available(datetime.now(UTC))
    # Admins see it in the Admin section too.
    assert "🌴 away" in json.dumps(people.agent2.open_home(), ensure_ascii=False)
    people.agent.click_home("I'm back")
    double.wait_for(lambda: "You are *available*" in home_text(people.agent), what="the tab to say available")
    person = desk.deps.directory.person(AGENT)
    assert person is not None and person.available(datetime.now(UTC))
    trail = [(e.actor_id, e.kind, e.subject, e.from_value, e.to_value) for e in reversed(desk.deps.directory.events())]
    assert trail[-2:] == [(AGENT, "away", AGENT, "available", "away"), (AGENT, "away", AGENT, "away", "available")]


def test_away_until_a_day_lasts_through_that_day(desk: Casedesk, double: SlackDouble, people: People) -> None:
    tz = desk.deps.settings.tz
    day = datetime.now(tz).date() + timedelta(days=3)
    people.agent.open_home()
    people.agent.home_date("Away until", day.isoformat())
    label = f"away through {day:%a} {day.day} {day:%b}"
    double.wait_for(lambda: label in home_text(people.agent), what="the tab to say until when")
    person = desk.deps.directory.person(AGENT)
    assert person is not None and person.away_until == datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    assert not person.available(datetime.now(UTC))
    assert person.available(datetime.combine(day + timedelta(days=1), time(0, 1), tzinfo=tz))  # back the day after
    datepicker = next(el for b in people.agent.home()["blocks"] if b["type"] == "actions"  # type: ignore[index]
                      for el in b["elements"] if el["type"] == "datepicker")
    assert datepicker["initial_date"] == day.isoformat()
    # A day gone by is refused, and nothing changes.
    people.agent.home_date("Away until", (date.today() - timedelta(days=2)).isoformat())
    people.agent.wait_dm("Choose a time in the future")
    person = desk.deps.directory.person(AGENT)
    assert person is not None and person.away_until is not None
    # "I'm back" ends it early.
    people.agent.click_home("I'm back")
    double.wait_for(lambda: "You are *available*" in home_text(people.agent), what="back early")


def test_only_agents_can_be_away(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.workspace.home_views[people.reporter.id] = people.agent.open_home()  # a forged tab
    people.reporter.click_home("I'm away")
    people.reporter.wait_dm("Only agents can be away")
    assert desk.deps.directory.person(people.reporter.id) is None
