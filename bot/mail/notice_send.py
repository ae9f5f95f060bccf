"""A notification mail made ready as it is sent: its Slack users' profile addresses
(``users.info``, asked now rather than when the ticket changed, so a change never waits on
Slack), the link to the ticket's card, and the case's token with its reply key.

Slack down, or the card not yet posted, is no one's fault: the mail waits (its attempts
are not counted) and is tried again. A user Slack does not know, or one without an
address, is left out; a notice left with no one to mail is recorded and never sent.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.mail.addresses import is_address, split_addresses, unique
from bot.mail.compose import token, with_link
from bot.mail.reply_key import ReplyKeys
from bot.services.mail_outbox import NOTICES, PendingMail
from bot.services.records import format_number
from bot.services.tickets import Clock, utcnow
from bot.slack.workspace_url import WorkspaceUrl
from bot.views.text import permalink
from db.models import Ticket
from db.session import Database

log = logging.getLogger(__name__)

# How long a notice waits for its ticket's card before it goes without the link.
CARD_WAIT = timedelta(minutes=10)
# Slack's answers that mean "this user has no address we may use", not "try again".
NO_ADDRESS = frozenset({"user_not_found", "user_not_visible", "account_inactive", "missing_scope", "no_permission"})


class NotReady(Exception):
    """The notice cannot be finished yet (Slack is not answering, its card is not posted)."""


class NoticeFinisher:
    def __init__(
        self,
        db: Database,
        client: WebClient,
        workspace_url: WorkspaceUrl,
        own_addresses: frozenset[str],
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self._client = client
        self._workspace_url = workspace_url
        self._own = own_addresses
        self._keys = ReplyKeys(db)
        self._clock = clock

    def __call__(self, mail: PendingMail) -> PendingMail | None:
        """``mail`` as it is to be sent, or None when no one is left to mail; NotReady to wait."""
        if mail.kind not in NOTICES:
            return mail
        number = format_number(mail.ticket_id)
        subject = f"{mail.subject} {token(number, self._keys.key(number))}"
        body = mail.body
        if mail.kind == "notice":
            body = with_link(body, self._card_link(mail))
        found = [self._address(user) for user in split_addresses(mail.to_users)]
        to = unique([*split_addresses(mail.to_addr), *(a for a in found if a)], without=self._own)
        cc = unique(split_addresses(mail.cc_addrs), without=[*self._own, *to])
        if not to:
            to, cc = cc, []
        if not to:
            return None
        return replace(mail, to_addr=", ".join(to), cc_addrs=", ".join(cc) or None, subject=subject, body=body)

    def _card_link(self, mail: PendingMail) -> str | None:
        with self._db.read() as session:
            row = session.get(Ticket, mail.ticket_id)
            card = (row.card_channel, row.card_ts) if row else (None, None)
        waited = self._clock() - (mail.created_at or self._clock())
        if not (card[0] and card[1]):
            if row is not None and waited < CARD_WAIT:
                raise NotReady("its card is not posted yet")
            return None  # the card was never posted: the mail goes without its link
        try:
            base = self._workspace_url.get(self._client)
        except OSError as err:
            raise NotReady(f"Slack is not answering ({type(err).__name__})") from err
        if base is None and waited < CARD_WAIT:
            raise NotReady("Slack did not give the workspace's address")
        return permalink(base, card[0], card[1])

    def _address(self, user_id: str) -> str | None:
        try:
            user = self._client.users_info(user=user_id).get("user") or {}
        except SlackApiError as err:
            error = str(err.response.get("error", "")) if err.response is not None else ""
            if error in NO_ADDRESS:
                log.info("no address for %s (%s): left out of a notification mail", user_id, error)
                return None
            raise NotReady(f"Slack answered users.info with {error or 'an error'}") from err
        except OSError as err:
            raise NotReady(f"Slack is not answering ({type(err).__name__})") from err
        if user.get("deleted") or user.get("is_bot"):
            return None
        address = str((user.get("profile") or {}).get("email") or "").strip()
        return address if is_address(address) else None

