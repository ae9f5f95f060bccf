"""The app factory: builds the Bolt App and everything its listeners use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy import Engine

from bot import handlers
from bot.delivery.slack import OutboxSender
from bot.deps import CONTEXT_KEY, Deps, MailDesk
from bot.mail.imap_poll import MailPoller
from bot.mail.notice_send import NoticeFinisher
from bot.mail.smtp_send import Mailer
from bot.ops.metrics import Metrics
from bot.services import notifications, webhook_events
from bot.services.channel_life import ChannelLife
from bot.services.conversations import ConversationService
from bot.services.customer_channels import CustomerChannels
from bot.services.customer_loop import customer_loop
from bot.services.directory import Directory, LiveAgents
from bot.services.effects import Channels
from bot.services.email_intake import EmailIntake, MailPolicy
from bot.services.email_replies import EmailReplies
from bot.services.escalation import EscalationService
from bot.services.forms import Forms
from bot.services.job_runs import BotStateStore, JobRunLedger
from bot.services.macros import Macros
from bot.services.mail_outbox import MailOutbox
from bot.services.message_tickets import MessageTickets
from bot.services.phrases import Keywords
from bot.services.public_replies import PublicReplies
from bot.services.queries import TicketQueries
from bot.services.reports import ReportQueries
from bot.services.summary import SummaryQueries
from bot.services.tickets import Clock, TicketService, utcnow
from bot.services.timeline import TimelineQueries
from bot.settings import Settings
from bot.slack.error_reports import ErrorReporter
from bot.slack.file_stubs import FileStubs
from bot.slack.home_tab import HomeTab
from bot.slack.metered_client import MeteredWebClient
from bot.slack.workspace_url import WorkspaceUrl
from db.session import Database, make_engine

LISTENER_THREADS = 32


def build_web_client(settings: Settings, metrics: Metrics | None = None) -> WebClient:
    """Web API client that waits out HTTP 429 (Retry-After) and retries dropped connections;
    with ``metrics``, one that counts its calls.

    Listeners always ack() before their first call, so a retry never delays an ack.
    """
    options: dict[str, Any] = {
        "token": settings.slack_bot_token,
        "base_url": settings.slack_api_url,
        "timeout": 15,
        "retry_handlers": [
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    }
    return WebClient(**options) if metrics is None else MeteredWebClient(metrics=metrics, **options)


def _mail_desk(
    settings: Settings, db: Database, tickets: TicketService, clock: Clock, client: WebClient, workspace_url: WorkspaceUrl
) -> MailDesk:
    policy = MailPolicy(
        support_channel=settings.support_channel,
        admin_channel=settings.admin_channel,
        admin_emails=frozenset(settings.admin_emails),
        own_addresses=settings.own_addresses,
        reply_from=settings.smtp.from_addr if settings.smtp else None,
        acknowledge=settings.email_ack,
        file_cap=settings.attachment_max_bytes,
    )
    intake = EmailIntake(db, tickets, policy, Keywords(settings.escalation_keywords), clock)
    return MailDesk(
        intake=intake,
        replies=EmailReplies(db, tickets, settings.support_channel, clock),
        poller=MailPoller(settings.imap, intake) if settings.imap else None,
        mailer=Mailer(
            settings.smtp, MailOutbox(db), clock, finish=NoticeFinisher(db, client, workspace_url, settings.own_addresses, clock)
        ) if settings.smtp else None,
    )


@dataclass
class Casedesk:
    app: App
    deps: Deps
    engine: Engine
    # Runs listener bodies after their ack; waited for on shutdown.
    listener_executor: ThreadPoolExecutor


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock = utcnow,
    client: WebClient | None = None,
) -> Casedesk:
    engine = engine or make_engine(settings.database_url, prepared=settings.database_prepared)
    metrics = Metrics()
    client = client or build_web_client(settings, metrics)
    db = Database(engine)
    metrics.watch(db, clock)
    directory = Directory(db, settings.system_users, clock=clock)
    directory.bootstrap_soon()  # SYSTEM_USERS are the admins of a desk that has none
    agents = LiveAgents(directory)
    tickets = TicketService(
        db,
        agents,
        campaigns=settings.campaigns,
        issue_types=settings.issue_types,
        channels=Channels(support=settings.support_channel, admin=settings.admin_channel),
        clock=clock,
        levels=settings.service_levels,
    )
    directory.on_leave = tickets.hand_back  # someone leaving a team hands their tickets there back
    reporter = ErrorReporter(client, settings.admin_channel, clock)
    queries = TicketQueries(db, agents)
    conversations = ConversationService(
        db, tickets, support_channel=settings.support_channel, keywords=Keywords(settings.escalation_keywords), clock=clock
    )
    workspace_url = WorkspaceUrl()
    customers = CustomerChannels(db, client, is_admin=directory.is_admin, clock=clock)
    mail = _mail_desk(settings, db, tickets, clock, client, workspace_url)
    # With SMTP, a ticket's creation and resolution owe notification mails, in their own transaction.
    notifications.serve(
        db, notifications.NoticePolicy(settings.smtp.from_addr, settings.own_addresses, clock) if settings.smtp else None
    )
    auto_close, surveys = customer_loop(settings, db, tickets, clock)
    webhook_events.serve(db, clock)  # every change owes its webhooks' deliveries, in its transaction
    home = HomeTab(queries, agents, directory, settings.tz)
    sender = OutboxSender(
        client, settings, db, tickets, conversations, home, workspace_url, clock, posts_per_second=settings.slack_posts_per_second
    )
    sender.customers = customers
    sender.life = life = ChannelLife(db, tickets, settings.support_channel, clock)
    home.customers = customers
    deps = Deps(
        settings=settings,
        tickets=tickets,
        queries=queries,
        summaries=SummaryQueries(db, agents),
        directory=directory,
        errors=reporter,
        home=home,
        conversations=conversations,
        sender=sender,
        timeline=TimelineQueries(db),
        client=client,
        clock=clock,
        escalations=EscalationService(
            db,
            hours=settings.escalation_hours,
            followups=settings.escalation_followups,
            alert_channel=settings.alerting_channel,
            clock=clock,
            levels=settings.service_levels,
        ),
        reports=ReportQueries(db),
        ledger=JobRunLedger(db, clock),
        state=BotStateStore(db),
        mail=mail,
        workspace_url=workspace_url,
        db=db,
        message_tickets=MessageTickets(db, tickets, conversations, clock),
        replies=PublicReplies(db, tickets, mail.replies, settings.support_channel, clock),
        macros=Macros(db, tickets, clock),
        customers=customers,
        channel_life=life,
        files=FileStubs(client),
        forms=Forms(db, directory.is_admin, clock),
        auto_close=auto_close,
        surveys=surveys,
        metrics=metrics,
    )
    # Bolt's default pool has 5 threads and a listener holds its thread until it acks
    # *and* finishes; five listeners waiting out a 429 would hold every ack back.
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="casedesk-listener")
    # Named here: unnamed, Bolt names the app after its caller's file by walking the whole stack
    # and reading the source of every frame: about a third of building the app, for a log name.
    app = App(name="casedesk", client=client, logger=logging.getLogger("casedesk.bolt"), listener_executor=executor)

    def inject(context: BoltContext, next: Callable[[], None]) -> None:
        context[CONTEXT_KEY] = deps
        # Listeners call Slack through the desk's own client (Bolt builds a plain one per
        # request), so their calls are counted with the rest.
        context["client"] = deps.client
        next()

    app.use(inject)
    reporter.install(app)
    handlers.register(app)
    return Casedesk(app=app, deps=deps, engine=engine, listener_executor=executor)
