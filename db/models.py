"""The ticket data model: tickets, their audit events, comments, the case's messages
(Slack and email), attachments, the outbox of Slack posts still to send, the mail
received and owed; and the desk's people, teams, routing rules and assignees."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(100))
    issue_type: Mapped[str] = mapped_column(String(100))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)
    # A Slack user ID, or the sender's address for a case that came by email.
    reporter_id: Mapped[str] = mapped_column(String(320))
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(20), default="slack_form")
    # Identifies the delivery that created the ticket (e.g. the modal's view ID);
    # unique so that a redelivered submission cannot create a second ticket.
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    screenshot_name: Mapped[str | None] = mapped_column(String(255))
    screenshot_url: Mapped[str | None] = mapped_column(String(3000))
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where a case opened from a channel message lives: its thread in that channel.
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_ts: Mapped[str | None] = mapped_column(String(32))
    # The permalink of the message a case was made from (a reaction, the message shortcut).
    origin_link: Mapped[str | None] = mapped_column(String(3000))
    # Response bookkeeping, kept by the service as messages arrive; escalation reads it.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followups: Mapped[int] = mapped_column(default=0)
    keyword: Mapped[str | None] = mapped_column(String(100))
    # Reasons already alerted in this episode (comma-separated); cleared by an agent's response.
    escalated_reasons: Mapped[str] = mapped_column(String(100), default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The team whose queue holds the ticket (routing decides; None only before migration 0009).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # Extra addresses told of its creation and resolution (comma-separated), from the form.
    notify_emails: Mapped[str | None] = mapped_column(Text)
    # Service levels (migration 0011): when each target is due and when its 75 % warning
    # falls, in business time by the ticket's priority; None for a ticket older than the
    # SLAs (the 48 h escalation rule alone governs it).
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SLA stages already alerted, once per ticket (comma-separated: first_warned,
    # first_breached, resolution_warned, resolution_breached).
    sla_warned: Mapped[str] = mapped_column(String(100), default="")
    # Waiting on the customer since (None when not waiting), and the business seconds of
    # the pauses ended so far (the resolution targets moved by them).
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(default=0)
    # Auto-close (migration 0014): when the requester was told the ticket will close unless
    # they reply; cleared by any change of status, so each Resolved or Waiting spell warns once.
    autoclose_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds to the first response and to resolution (less the waits on the
    # customer), stored when each happens (migration 0016): the reports' medians.
    first_response_seconds: Mapped[int | None] = mapped_column()
    resolution_seconds: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    # The id another system gave the case when it opened it through the API (migration 0013);
    # unique, so that the same create sent again answers the first case.
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The external organisation (its Slack team id) whose member opened the case in a
    # customer channel (migration 0020).
    account_id: Mapped[str | None] = mapped_column(String(32))

    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_priority", "priority"),
        Index("ix_tickets_assignee_id", "assignee_id"),
        Index("ix_tickets_reporter_id", "reporter_id"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_card", "card_channel", "card_ts"),
        Index("ix_tickets_reporter_created", "reporter_id", "created_at"),
        Index("ix_tickets_assignee_created", "assignee_id", "created_at"),
        Index("ix_tickets_status_priority", "status", "priority"),
        Index("ix_tickets_origin", "origin_channel", "origin_ts"),
        Index("ix_tickets_status_waiting", "status", "waiting_since"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_team_created", "team_id", "created_at"),
        Index("ix_tickets_team_status_assignee", "team_id", "status", "assignee_id"),
        Index("ix_tickets_assignee_status_team", "assignee_id", "status", "team_id"),
        Index("uq_tickets_external_id", "external_id", unique=True),
        # The auto-close sweep: Resolved tickets by when, Waiting ones by since when.
        Index("ix_tickets_status_resolved", "status", "resolved_at"),
        Index("ix_tickets_status_paused", "status", "paused_at"),
        # The reports' periods (migration 0016) and the targets missed in them (0018).
        Index("ix_tickets_first_response_at", "first_response_at"),
        Index("ix_tickets_resolved_at", "resolved_at"),
        Index("ix_tickets_first_response_due", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        Index("ix_tickets_account_created", "account_id", "created_at"),
        # Partial indexes of the escalation candidates: created in migration 0004; of the
        # SLA stages not alerted yet: in migration 0011.
    )


class TicketEvent(Base):
    """One row per change: the audit trail."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(320))  # a Slack user, or an address for mail
    kind: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="events")

    __table_args__ = (
        Index("ix_ticket_events_ticket_id", "ticket_id", "id"),
        Index("ix_ticket_events_kind_created", "kind", "created_at"),
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_comments_ticket_id", "ticket_id", "id"),)


class CaseMessage(Base):
    """A message of a case: a Slack post in one of its threads, or an email."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(String(10))  # slack | email
    # customer | agent | note (an automatic mail kept for the record) | bot
    role: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Slack's edited.ts of the edit the body holds: an older edit handled later is ignored.
    edited_ts: Mapped[str | None] = mapped_column(String(32))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    email_message_id: Mapped[str | None] = mapped_column(String(998))
    # "public": the requester sees it (theirs, or a reply in their thread or by mail);
    # "internal": written in the card's thread, never sent to the requester.
    kind: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    # The merge that moved it from a duplicate to its primary (migration 0023): an unmerge
    # moves back exactly these.
    merge_id: Mapped[int | None] = mapped_column()

    __table_args__ = (
        # Two deliveries of one Slack message (a retry, a second bot process) store one row.
        UniqueConstraint("slack_channel", "slack_ts", name="uq_case_messages_slack"),
        UniqueConstraint("email_message_id", name="uq_case_messages_email"),
        Index("ix_case_messages_ticket", "ticket_id", "id"),
        Index("ix_case_messages_merge", "merge_id"),
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("case_messages.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(default=0)
    url: Mapped[str | None] = mapped_column(String(3000))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Why the content is not kept (too large), shown wherever the attachment is listed.
    note: Mapped[str | None] = mapped_column(String(300))
    merge_id: Mapped[int | None] = mapped_column()  # as CaseMessage.merge_id

    __table_args__ = (Index("ix_attachments_ticket", "ticket_id", "id"), Index("ix_attachments_merge", "merge_id"))


class OutboxPost(Base):
    """A Slack post decided in a transaction and sent after it, paced per channel.

    Stored with the change that caused it, so a crash or a Slack outage delays the
    post but never loses it.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("case_messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocks: Mapped[str | None] = mapped_column(Text)  # JSON, for a report rendered when it was decided

    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "channel", "due_at"),
        Index("ix_outbox_ticket", "ticket_id", "kind"),
    )


class JobRun(Base):
    """One row per job and scheduled time: the key that makes a run happen once,
    however many bot processes wake up for it."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    slot: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_runs_slot"),)


class BotState(Base):
    """Small named values the bot keeps between runs (e.g. where the pinned list is)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class InboundEmail(Base):
    """Every mail taken from the mailbox, once: by Message-ID, and by UID within UIDVALIDITY.

    Written in the transaction that acts on the mail, so a re-read after a crash finds it.
    """

    __tablename__ = "inbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    # opened | threaded | note | skipped | quarantined
    outcome: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    # The mail as received, kept when it could not be read cleanly (for review).
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_inbound_emails_message_id"),
        UniqueConstraint("folder", "uidvalidity", "uid", name="uq_inbound_emails_uid"),
        Index("ix_inbound_emails_ticket", "ticket_id"),
    )


class OutboundEmail(Base):
    """A mail owed (an agent's reply, an acknowledgement, a notice of a new or resolved
    ticket), sent after the commit that decided it and retried until the SMTP server takes it."""

    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(998))
    # "reply" (an agent's), "ack" (an acknowledgement), or a notice of a ticket's creation or
    # resolution: "notice" (the team, the assignees, the CC list) or "requester" (the customer).
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    # Comma-separated; a notice's To and Cc are the addresses it went to once it is sent.
    to_addr: Mapped[str] = mapped_column(Text)
    cc_addrs: Mapped[str | None] = mapped_column(Text)
    # Slack users (comma-separated IDs) whose profile address joins To when the notice is sent.
    to_users: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_outbound_emails_message_id"),
        Index("ix_outbound_emails_pending", "sent_at", "due_at"),
        Index("ix_outbound_emails_created", "created_at"),  # acknowledgements of the last hour
    )


# ---- people, teams, routing ----------------------------------------------------------------


class Person(Base):
    """Someone with a role at the desk: an agent, or an admin (who is an agent too).
    Everyone else files and follows their own tickets and has no row here."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # "agent" or "admin"
    # Away: nothing new is routed or assigned to them; until a time, or until they return.
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_people_role", "role"),)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Where its cards are posted; None: the support channel.
    triage_channel: Mapped[str | None] = mapped_column(String(32))
    # Told of each new and resolved ticket (comma-separated addresses).
    notify_emails: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[str | None] = mapped_column(String(32))
    # "off", "round_robin" or "least_open"
    auto_assign: Mapped[str] = mapped_column(String(20), default="off")
    # Round-robin's place: the member given the last ticket.
    last_assigned_id: Mapped[str | None] = mapped_column(String(32))
    # The team that catches what no rule routes; exactly one.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("people.user_id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_team_members_user", "user_id"),)


class TeamServiceLevels(Base):
    """A team's own service levels, each overriding the desk's when set (None: the desk's):
    its calendar (time zone, working days, hours, holidays) and its SLA targets per
    priority, stored as admins write them (``mon-fri``, ``09:00-17:00``, ``1h/8h``)."""

    __tablename__ = "team_service_levels"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[str | None] = mapped_column(String(80))
    hours: Mapped[str | None] = mapped_column(String(200))
    holidays: Mapped[str | None] = mapped_column(Text)
    policy_high: Mapped[str | None] = mapped_column(String(40))
    policy_medium: Mapped[str | None] = mapped_column(String(40))
    policy_low: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoutingRule(Base):
    """Tickets whose ``field`` equals ``value`` go to ``team_id``; the lowest position that
    matches wins, the default team catches the rest."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column()
    field: Mapped[str] = mapped_column(String(20))  # issue_type, campaign, intake_channel, mailbox
    value: Mapped[str] = mapped_column(String(320))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_routing_rules_position", "position"),)


class TicketAssignee(Base):
    """Everyone assigned to a ticket; the owner is also ``tickets.assignee_id``."""

    __tablename__ = "ticket_assignees"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_ticket_assignees_user", "user_id", "ticket_id"),)


class FormerCard(Base):
    """A card left behind when its ticket moved to another team: replies in its thread
    still join the case."""

    __tablename__ = "former_cards"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_former_cards_ticket", "ticket_id"),)


class SatisfactionRating(Base):
    """A requester asked "How did we do?" about a resolved ticket, once per ticket, and
    their answer: a score of 1-5 (None until they rate) and an optional comment.

    Asked in a DM (channel "slack") or by mail with signed links to the rating page
    (channel "mail"); a link names this row and is good until ``expires_at``, and the
    rating is recorded only while ``rated_at`` is empty, so a link or button counts once.
    """

    __tablename__ = "satisfaction_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    requester: Mapped[str] = mapped_column(String(320))  # a Slack user ID, or an address
    channel: Mapped[str] = mapped_column(String(10))  # slack | mail
    # The ticket's team and priority when it was asked, for reports by team and priority.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(10))
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_satisfaction_ratings_requester_asked", "requester", "asked_at"),  # the cooldown
        Index("ix_satisfaction_ratings_rated", "rated_at"),  # reports over a period
    )


class IntakeBurst(Base):
    """Per intake channel and person: the case their last top-level message went to, and
    its ts. Messages close behind it join that case; the row is what processes lock."""

    __tablename__ = "intake_bursts"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    last_ts: Mapped[str | None] = mapped_column(String(32))


class CustomerChannel(Base):
    """An intake channel shared with another organisation (Slack Connect): its members from
    there are customers, and the bot posts there only what they may read."""

    __tablename__ = "customer_channels"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(32))  # the organisation, when known
    ack_text: Mapped[str | None] = mapped_column(Text)  # None: the desk's own acknowledgment
    marked_by: Mapped[str] = mapped_column(String(32))  # an admin, or "slack" when detected
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Since when its share is gone (unshared, frozen, disconnected) and why: its open cases
    # are on hold and nothing is posted there until it is shared again (migration 0024).
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_reason: Mapped[str | None] = mapped_column(String(60))


class Account(Base):
    """An external organisation, by its Slack team id; its name once ``team.info`` told it."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last lookup, failed or not
    error: Mapped[str | None] = mapped_column(String(60))  # the last lookup's failure


class Macro(Base):
    """A canned reply: its text with variables, and the status it may put the case in."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))  # applied once the reply is sent; None: unchanged
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("name", name="uq_macros_name"),)


class FormField(Base):
    """An extra field of an issue type's new-ticket form (migration 0022). A removed one
    keeps its row, so that its key keeps its meaning for the tickets that have it."""

    __tablename__ = "form_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_type: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(30))  # what filters and the API name it by
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # see bot/services/forms.py KINDS
    required: Mapped[bool] = mapped_column(Boolean)
    help: Mapped[str] = mapped_column(String(150))
    options: Mapped[str] = mapped_column(Text)  # a JSON list of the selects' options
    position: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_form_fields_issue_type", "issue_type", "position"),)


class TicketField(Base):
    """One value a ticket was filed with (a multi select: one row per option chosen), with
    the label and kind its field had then."""

    __tablename__ = "ticket_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column()
    value_text: Mapped[str] = mapped_column(Text)  # as written
    value_key: Mapped[str] = mapped_column(String(200))  # case-folded, what field:value matches
    value_number: Mapped[float | None] = mapped_column(Float)
    value_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_ticket_fields_ticket", "ticket_id"),
        Index("ix_ticket_fields_key_value", "key", "value_key"),
    )


class TicketLink(Base):
    """Two tickets related ("related"), or one the parent of the other ("parent": from_id
    is the parent, to_id the child); one row per pair and kind."""

    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("from_id", "to_id", "kind", name="uq_ticket_links_pair"),
        Index("ix_ticket_links_to", "to_id"),
    )


class TicketMerge(Base):
    """A duplicate merged into its primary; in force until unmerged_at is set."""

    __tablename__ = "ticket_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    duplicate_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    primary_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    status_before: Mapped[str] = mapped_column(String(20))  # given back by an unmerge
    merged_by: Mapped[str] = mapped_column(String(32))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unmerged_by: Mapped[str | None] = mapped_column(String(32))
    unmerged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_ticket_merges_duplicate", "duplicate_id", "unmerged_at"),
        Index("ix_ticket_merges_primary", "primary_id", "unmerged_at"),
    )


class DeskEvent(Base):
    """The audit trail of the desk itself: people, roles, teams, rules and settings changed."""

    __tablename__ = "desk_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(320))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_desk_events_created", "created_at"),)


class DeskSetting(Base):
    """Settings admins change from Slack, by name (e.g. the CC list of notification mails)."""

    __tablename__ = "desk_settings"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


# ---- the REST API and outgoing webhooks (migration 0013) -----------------------------------


class ApiToken(Base):
    """A bearer token of the REST API; only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    scope: Mapped[str] = mapped_column(String(10))  # "read" or "write"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(Base):
    """A URL told of the events it wants, each delivery signed with its secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Kept as given: signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[str] = mapped_column(String(300))  # comma-separated
    # An admin's explicit leave to post to a loopback or private address.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event owed to one webhook: written with the change, posted after the commit,
    retried with backoff for a day, then dead (and replayable)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # the JSON posted, fixed when the event happened
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_pending", "sent_at", "dead_at", "due_at"),
        Index("ix_webhook_deliveries_hook", "webhook_id", "id"),
    )
