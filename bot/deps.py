"""What listeners need, handed to them through Bolt's request context."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.delivery.slack import OutboxSender
from bot.ops.metrics import Metrics
from bot.services.conversations import ConversationService
from bot.services.directory import Directory
from bot.services.email_intake import EmailIntake
from bot.services.email_replies import EmailReplies
from bot.services.escalation import EscalationService
from bot.services.job_runs import BotStateStore, JobRunLedger
from bot.services.queries import TicketQueries
from bot.services.reports import ReportQueries
from bot.services.summary import SummaryQueries
from bot.services.tickets import Clock, TicketService
from bot.services.timeline import TimelineQueries
from bot.settings import Settings
from bot.slack.error_reports import ErrorReporter
from bot.slack.file_stubs import FileStubs
from bot.slack.home_tab import HomeTab
from bot.slack.workspace_url import WorkspaceUrl
from db.session import Database

if TYPE_CHECKING:
    from bot.mail.imap_poll import MailPoller
    from bot.mail.smtp_send import Mailer
    from bot.services.auto_close import AutoClose
    from bot.services.channel_life import ChannelLife
    from bot.services.customer_channels import CustomerChannels
    from bot.services.forms import Forms
    from bot.services.macros import Macros
    from bot.services.message_tickets import MessageTickets
    from bot.services.public_replies import PublicReplies
    from bot.services.surveys import Surveys

CONTEXT_KEY = "casedesk"


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
    directory: Directory
    workspace_url: WorkspaceUrl = field(default_factory=WorkspaceUrl)
    # Tickets from any message (a reaction, the shortcut); public replies told from notes.
    message_tickets: MessageTickets = field(default=None)  # type: ignore[assignment]  # set by create_app
    replies: PublicReplies = field(default=None)  # type: ignore[assignment]  # set by create_app
    macros: Macros = field(default=None)  # type: ignore[assignment]  # set by create_app
    forms: Forms = field(default=None)  # type: ignore[assignment]  # set by create_app: forms per issue type
    # The desk's database, its writes carrying the hooks (notices, webhooks): for the API.
    db: Database | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # The customer loop: closing what nobody answered, and "How did we do?" (None: off).
    auto_close: AutoClose | None = None
    surveys: Surveys | None = None
    # Customers in Slack Connect channels and their organisations (accounts).
    customers: CustomerChannels = field(default=None)  # type: ignore[assignment]  # set by create_app
    # Their life: a new id, the share ended (cases on hold), shared again.
    channel_life: ChannelLife = field(default=None)  # type: ignore[assignment]  # set by create_app
    # Files in Slack Connect channels come as stubs: files.info, on the way to the ack.
    files: FileStubs = field(default=None)  # type: ignore[assignment]  # set by create_app
    # Lookups a message owes but must not wait for (an organisation's name).
    lookups: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="casedesk-lookup")
    )
    # Runs the storing a listener does before its ack, so the ack waits a bounded time.
    store_first: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="casedesk-store")
    )


def deps_of(context: BoltContext) -> Deps:
    deps: Deps = context[CONTEXT_KEY]
    return deps
