"""Slack side effects of ticket changes: the card, its thread, DMs and refusals.

Handlers and jobs call this after the service has committed a change. A Slack
failure here is logged and never undoes the change: a card that could not be
posted is posted later by the card-repair job, a stale card is refreshed on the
next action.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.services.records import Change, TicketRecord
from bot.services.tickets import TicketService
from bot.views import notices
from bot.views.text import is_slack_user
from bot.views.ticket_card import card_summary, ticket_card

log = logging.getLogger(__name__)


class TicketNotifier:
    def __init__(self, client: WebClient, settings: Settings, service: TicketService) -> None:
        self._client = client
        self._settings = settings
        self._service = service
        self._tz: ZoneInfo = settings.tz

    def with_client(self, client: WebClient) -> TicketNotifier:
        """The same notifier over Bolt's per-request client."""
        return TicketNotifier(client, self._settings, self._service)

    def publish_new(self, ticket: TicketRecord) -> TicketRecord:
        """Post the card, then tell the admin channel and the reporter."""
        try:
            posted = self._client.chat_postMessage(
                channel=self._settings.support_channel,
                text=card_summary(ticket),
                blocks=ticket_card(ticket, self._tz),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as err:
            log.error("posting the card of %s failed: %s", ticket.number, err.response.get("error"))
            self._dm(ticket.reporter_id, notices.filed_confirmation(ticket, None))
            return ticket
        stored = self._service.record_card(ticket.id, posted["channel"], posted["ts"])
        link = self.permalink(posted["channel"], posted["ts"])
        self._post(self._settings.admin_channel, notices.admin_new_ticket(ticket, link))
        self._dm(ticket.reporter_id, notices.filed_confirmation(ticket, link))
        return stored

    def publish_change(self, change: Change, card: tuple[str, str] | None = None) -> None:
        """``card`` is where the person clicked: it stands in for a card location the
        ticket does not have yet (a click that raced the card's own bookkeeping)."""
        ticket = change.ticket
        if card and not ticket.card_ts:
            ticket = replace(ticket, card_channel=card[0], card_ts=card[1])
            change = replace(change, ticket=ticket)
        self.refresh_card(ticket)
        if ticket.card_channel and ticket.card_ts:
            self._post(ticket.card_channel, notices.thread_line(change), thread_ts=ticket.card_ts)
        tell_reporter = ticket.reporter_id != change.event.actor_id and notices.reporter_update(change, None)
        new_assignee = change.event.to_value if change.event.kind == "reassigned" else None
        tell_assignee = new_assignee and new_assignee != change.event.actor_id
        if not (tell_reporter or tell_assignee):
            return
        link = self.permalink(ticket.card_channel, ticket.card_ts)
        if tell_reporter:
            self._dm(ticket.reporter_id, notices.reporter_update(change, link) or "")
        if tell_assignee and new_assignee:
            self._dm(new_assignee, notices.assignee_notice(change, link))

    def refresh_card(self, ticket: TicketRecord) -> None:
        if not (ticket.card_channel and ticket.card_ts):
            return
        try:
            self._client.chat_update(
                channel=ticket.card_channel,
                ts=ticket.card_ts,
                text=card_summary(ticket),
                blocks=ticket_card(ticket, self._tz),
            )
        except SlackApiError as err:
            log.error("updating the card of %s failed: %s", ticket.number, err.response.get("error"))

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """An ephemeral answer to one person; a DM when there is no channel to use."""
        if not channel:
            self._dm(user, text)
            return
        try:
            self._client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as err:
            log.warning("ephemeral reply failed (%s); sending a DM", err.response.get("error"))
            self._dm(user, text)

    def permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not (channel and ts):
            return None
        try:
            return str(self._client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as err:
            log.warning("permalink lookup failed: %s", err.response.get("error"))
            return None

    def _dm(self, user: str, text: str) -> None:
        if is_slack_user(user):  # an email reporter is answered by mail, not here
            self._post(user, text)

    def post(self, channel: str, text: str, thread_ts: str | None = None) -> None:
        self._post(channel, text, thread_ts)

    def _post(self, channel: str, text: str, thread_ts: str | None = None) -> None:
        try:
            self._client.chat_postMessage(
                channel=channel, text=text, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as err:
            log.error("posting to %s failed: %s", channel, err.response.get("error"))
