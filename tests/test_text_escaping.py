"""Text as people wrote it: Slack's escaping is undone once when a message is stored and
done once when the bot shows it; edits keep the newest text whatever order they come in."""

from __future__ import annotations

from bot.app import Casedesk
from slack_double import Message, SlackDouble, events
from tests.conftest import People
from tests.test_conversations import INTAKE, open_case, settings  # noqa: F401 - the intake channel's settings

TYPED = "Tom & Jerry <3"
ON_THE_WIRE = "Tom &amp; Jerry &lt;3"  # what Slack sends and shows as TYPED


def escaped_once(text: str) -> bool:
    return ON_THE_WIRE in text and "&amp;amp;" not in text and "&amp;lt;" not in text


def test_a_customer_sees_what_they_wrote_on_the_card_and_in_its_thread(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked, card = open_case(double, people, events.as_sent(TYPED))
    assert escaped_once(card.all_text())
    assert desk.deps.tickets.get(1).details == TYPED
    people.reporter.say(INTAKE, events.as_sent(f"{TYPED} still"), thread=asked)
    mirrored = double.wait_thread_reply(card, "still")
    assert escaped_once(mirrored.all_text())
    assert [m.body for m in desk.deps.conversations.messages(1)] == [TYPED, f"{TYPED} still"]


def test_an_edit_is_stored_as_written_and_shown_escaped_once(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people, "Cartoons")
    people.reporter.edit(asked, events.as_sent(TYPED))
    assert desk.deps.tickets.get(1).details == TYPED  # stored before the edit's ack
    shown = double.wait_for(lambda: c if "Tom" in (c := double.current(card)).all_text() else None, what="the card to show the edit")
    assert escaped_once(shown.all_text())


def edit_event(double: SlackDouble, message: Message, text: str) -> dict[str, object]:
    """The message_changed event of one edit, made now and delivered when the test says."""
    ws = double.workspace
    previous = message.text
    with ws.changed:
        message.text, message.edited_ts = text, ws.next_ts()
    return events.changed_event(ws, message, previous)


def test_an_older_edit_handled_after_a_newer_one_does_not_overwrite_it(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked, card = open_case(double, people, "Printer jammed.")
    older = edit_event(double, asked, "Printer jammed again.")
    newer = edit_event(double, asked, "Printer fixed, thanks.")
    double.deliver(newer)
    double.deliver(older)
    [stored] = desk.deps.conversations.messages(1)
    assert stored.body == "Printer fixed, thanks."
    assert desk.deps.tickets.get(1).details == "Printer fixed, thanks."
    double.wait_for(lambda: "Printer fixed" in double.current(card).all_text(), what="the card to show the newest edit")
    assert "again" not in double.current(card).all_text()
