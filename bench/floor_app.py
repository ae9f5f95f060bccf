"""The floor: a minimal Bolt app over the same double that acks and makes the same
Slack calls as Casedesk for each step, with no database and no service layer.

Run as ``python -m bench.floor_app`` with the bot's Slack settings in the environment.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.services.records import TicketRecord
from bot.services.status import Priority, Status
from bot.views.modals import NEW_TICKET, new_ticket_modal
from bot.views.text import escape
from bot.views.ticket_card import ASSIGN_SELF, card_summary, ticket_card

SUPPORT = os.environ["SUPPORT_SLACK_CHANNEL"]
ADMIN = os.environ["ADMIN_CHANNEL"]
NUMBERS = itertools.count(1)
UTC = UTC


def record(user: str, details: str) -> TicketRecord:
    now = datetime.now(UTC)
    return TicketRecord(
        id=next(NUMBERS), campaign="Billing", issue_type="Bug", priority=Priority.HIGH, status=Status.OPEN,
        details=details, reporter_id=user, assignee_id=None, source="slack_form", screenshot_name=None,
        screenshot_url=None, card_channel=None, card_ts=None, created_at=now, updated_at=now, resolved_at=None,
        resolved_by=None, resolution_note=None, closed_at=None,
    )


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client)
    tz = datetime.now().astimezone().tzinfo  # rendering only

    @app.command("/new-ticket")
    def command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=new_ticket_modal(("Billing",), ("Bug",), ""))

    @app.view(NEW_TICKET)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        details = view["state"]["values"]["details"]["value"]["value"]
        ticket = record(user, details)
        posted = client.chat_postMessage(channel=SUPPORT, text=card_summary(ticket), blocks=ticket_card(ticket, tz))  # type: ignore[arg-type]
        link = client.chat_getPermalink(channel=posted["channel"], message_ts=posted["ts"])["permalink"]
        client.chat_postMessage(channel=ADMIN, text=f"New ticket {ticket.number} {link}")
        client.chat_postMessage(channel=user, text=f"Filed {ticket.number} {link}")

    @app.action(ASSIGN_SELF)
    def assign(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel, ts = body["container"]["channel_id"], body["container"]["message_ts"]
        section = next(b for b in body["message"]["blocks"] if b["type"] == "section" and "text" in b)
        ticket = replace(record(user, section["text"]["text"]), status=Status.IN_PROGRESS, assignee_id=user)
        client.chat_update(channel=channel, ts=ts, text=card_summary(ticket), blocks=ticket_card(ticket, tz))  # type: ignore[arg-type]
        client.chat_postMessage(channel=channel, thread_ts=ts, text=f"{escape(user)} assigned it")

    @app.event("message")
    def message(event: dict[str, Any], client: WebClient) -> None:
        """A customer's top-level message: its card, then the acknowledgment in its thread."""
        thread = event.get("thread_ts")
        if event.get("subtype") or event.get("bot_id") or (thread and thread != event["ts"]) or event["channel"] == SUPPORT:
            return
        ticket = record(event["user"], event.get("text") or "")
        client.chat_postMessage(channel=SUPPORT, text=card_summary(ticket), blocks=ticket_card(ticket, tz))  # type: ignore[arg-type]
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text=f"Thanks, we are on it. ({ticket.number})")

    handler = SocketModeHandler(app, os.environ["SLACK_APP_TOKEN"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    handler.connect()
    stop.wait()
    handler.close()


if __name__ == "__main__":
    main()
