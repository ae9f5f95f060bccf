"""What listeners need, handed to them through Bolt's request context."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.errors import ErrorReporter
from bot.home import HomeTab
from bot.notifier import TicketNotifier
from bot.services.conversations import ConversationService
from bot.services.email_intake import EmailIntake
from bot.services.email_replies import EmailReplies
from bot.services.queries import TicketQueries
from bot.services.summary import SummaryQueries
from bot.services.escalation import EscalationService
from bot.services.job_runs import BotStateStore, JobRunLedger
from bot.services.reports import ReportQueries
from bot.services.tickets import Clock
from bot.services.timeline import TimelineQueries
from bot.services.tickets import TicketService

if TYPE_CHECKING:
    from bot.mail.imap_poll import MailPoller
    from bot.mail.smtp_send import Mailer
    from bot.outbox_sender import OutboxSender

CONTEXT_KEY = "casedesk"


class WorkspaceUrl:
    """The workspace's URL (from auth.test, asked once): the base of card permalinks."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._lock = threading.Lock()

    def get(self, client: WebClient) -> str | None:
        with self._lock:
            if self._url is None:
                try:
                    self._url = str(client.auth_test().get("url") or "") or None
                except SlackApiError:
                    return None
            return self._url


@dataclass(frozen=True)
class MailDesk:
    """Email: intake and replies always; the poll and the sending only when configured."""

    intake: EmailIntake
    replies: EmailReplies
    poller: MailPoller | None
    mailer: Mailer | None


@dataclass(frozen=True)
class Deps:
    settings: Settings
    tickets: TicketService
    queries: TicketQueries
    summaries: SummaryQueries
    notifier: TicketNotifier
    errors: ErrorReporter
    home: HomeTab
    conversations: ConversationService
    sender: OutboxSender
    timeline: TimelineQueries
    client: WebClient
    clock: Clock
    escalations: EscalationService
    reports: ReportQueries
    ledger: JobRunLedger
    state: BotStateStore
    mail: MailDesk
    workspace_url: WorkspaceUrl = field(default_factory=WorkspaceUrl)

    def notifier_for(self, client: WebClient) -> TicketNotifier:
        return self.notifier.with_client(client)


def deps_of(context: BoltContext) -> Deps:
    deps: Deps = context[CONTEXT_KEY]
    return deps
