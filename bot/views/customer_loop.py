"""What the requester is told before an automatic close, in Slack and by mail."""

from __future__ import annotations

from bot.services.status import Status


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def closing_note(number: str, status: Status, days: int, reporter: str, *, in_thread: bool) -> str:
    """The Slack note: in the thread the case came from (``in_thread``), or by DM."""
    where = "here in this thread" if in_thread else f"in the thread of {number}"
    if status is Status.RESOLVED:
        head = f"<@{reporter}>, {number} was resolved and will close in {_days(days)} unless you reply"
    else:
        head = f"<@{reporter}>, {number} is waiting for your answer and will close in {_days(days)} unless you reply"
    return f"⏳ {head} {where}."


def closing_subject(number: str, title: str | None) -> str:
    """``Closing soon TCK-000123: <title>``; the case's token is added when it is sent."""
    return f"Closing soon {number}: {' '.join((title or 'Your request').split())[:200]}"


def closing_mail_body(number: str, status: Status, days: int) -> str:
    if status is Status.RESOLVED:
        head = f"Your request, case {number}, was resolved. It will close in {_days(days)} unless you reply."
    else:
        head = f"We are waiting for your answer on case {number}. It will close in {_days(days)} unless you reply."
    return "\n\n".join(
        [
            f"Hello,\n\n{head}",
            "If you still need help, reply to this mail and the case stays open.",
            "This is an automatic message.",
        ]
    )
