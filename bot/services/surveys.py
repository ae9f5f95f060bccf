"""Satisfaction surveys: "How did we do?" asked once when a ticket is resolved, and the
answers (a score of 1-5 and an optional comment), each recorded once.

The question is owed in the transaction that resolves the ticket, whoever resolves it (a
click, a mail, the API): a hook on the desk's write sessions sees the audit event of the
resolution and, before that transaction commits, stores the survey (one per ticket, kept
unique by the table) and what asks it: a DM with five buttons for a Slack requester, a
mail with five signed links to the rating page for one who wrote by email. A share of the
resolutions is asked (CSAT_SAMPLE), and a requester asked recently is not asked again
(CSAT_COOLDOWN_DAYS).

A rating is recorded by an UPDATE that holds only while the survey is unanswered and
unexpired, so a second click, a replayed link or two replicas record it once; it is said
in the card's thread and kept in the audit trail.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.mail.compose import new_message_id
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.records import format_number
from bot.services.status import Status
from bot.services.survey_links import SCORES, BadLink, ExpiredLink, sign, verify
from bot.services.tickets import Clock, audit_event, utcnow
from bot.views.survey import MAX_COMMENT, rated_line, survey_blocks, survey_mail_body, survey_subject, survey_text
from bot.views.text import is_slack_user
from db.models import SatisfactionRating, Ticket, TicketEvent
from db.session import Database
from db.write_hooks import WriteHook


@dataclass(frozen=True)
class SurveyPolicy:
    sample: float  # the share of resolutions asked, 0 to 1
    cooldown: timedelta  # a requester asked within this is not asked again
    valid_for: timedelta  # how long the buttons and links stay good
    support_channel: str  # the card's thread when the card is not recorded yet
    secret: str  # signs the links
    public_url: str | None  # the rating page's base; None: email requesters are not asked
    mail_from: str | None  # SMTP's From; None: email requesters are not asked
    clock: Clock = utcnow
    draw: Callable[[], float] = random.random  # the sampling's coin


class Outcome(StrEnum):
    RECORDED = "recorded"
    OPEN = "open"  # a good link not used yet: the page offers to rate
    ALREADY = "already"  # rated before: nothing recorded again
    EXPIRED = "expired"
    INVALID = "invalid"  # not a link the desk made, or no such survey
    NOT_YOURS = "not_yours"  # a Slack user other than the requester


@dataclass(frozen=True)
class Rated:
    outcome: Outcome
    number: str = ""
    score: int | None = None
    rating_id: int | None = None


@dataclass(frozen=True)
class SurveyRecord:
    id: int
    number: str
    requester: str
    score: int | None


def _is_resolution(obj: object) -> bool:
    return isinstance(obj, TicketEvent) and obj.kind == "status" and obj.to_value == Status.RESOLVED.value


def _ask_all(session: Session, resolutions: list[TicketEvent], policy: SurveyPolicy) -> None:
    for ev in resolutions:
        ask_in(session, ev, policy)


_HOOK: WriteHook[SurveyPolicy] = WriteHook("survey", _is_resolution, _ask_all)


def serve(db: Database, policy: SurveyPolicy | None) -> None:
    """Ask the surveys owed by resolutions written through ``db`` (None: ask none)."""
    _HOOK.serve(db, policy)


def ask_in(session: Session, ev: TicketEvent, policy: SurveyPolicy) -> SatisfactionRating | None:
    """Store the survey of the resolution ``ev`` and queue its question, unless the ticket was
    surveyed before, the requester resolved it themselves, cannot be reached, was asked within
    the cooldown, or the sample passes them by."""
    row = session.get(Ticket, ev.ticket_id)
    if row is None or ev.actor_id == row.reporter_id:
        return None
    requester = row.reporter_id
    slack = is_slack_user(requester)
    if not slack and not ("@" in requester and policy.public_url and policy.mail_from and policy.secret):
        return None
    if session.scalar(select(SatisfactionRating.id).where(SatisfactionRating.ticket_id == row.id)) is not None:
        return None  # asked once per ticket, however often it is resolved
    now = policy.clock()
    if policy.cooldown and session.scalar(
        select(SatisfactionRating.id)
        .where(SatisfactionRating.requester == requester, SatisfactionRating.asked_at > now - policy.cooldown)
        .limit(1)
    ):
        return None
    if policy.sample <= 0 or policy.draw() >= policy.sample:
        return None
    survey = SatisfactionRating(
        ticket_id=row.id, requester=requester, channel="slack" if slack else "mail", team_id=row.team_id,
        priority=row.priority, asked_at=now, expires_at=now + policy.valid_for,
    )
    session.add(survey)
    session.flush()
    number = format_number(row.id)
    if slack:
        enqueue(
            session, PostKind.POST, now, ticket_id=row.id, channel=requester, user_id=requester,
            text=survey_text(number, row.title), blocks=survey_blocks(survey.id, number, row.title),
        )
    else:
        assert policy.public_url and policy.mail_from
        links = [(s, f"{policy.public_url}/rate/{sign(policy.secret, survey.id, s, survey.expires_at)}") for s in SCORES]
        queue_mail(
            session, now, ticket_id=row.id, message_id=new_message_id(policy.mail_from), kind="survey",
            to_addr=requester, subject=survey_subject(number, row.title),
            body=survey_mail_body(number, links, policy.valid_for), in_reply_to=None, references=None, automatic=False,
        )
    return survey


class Surveys:
    """Recording the answers: by a Slack button, by a link, and a comment added afterwards."""

    def __init__(self, db: Database, policy: SurveyPolicy) -> None:
        self._db = db
        self.policy = policy

    def survey(self, rating_id: int) -> SurveyRecord | None:
        with self._db.read() as session:
            row = session.get(SatisfactionRating, rating_id)
            return SurveyRecord(row.id, format_number(row.ticket_id), row.requester, row.score) if row else None

    def rate_by_button(self, rating_id: int, score: int, user: str) -> Rated:
        return self._rate(rating_id, score, None, user=user)

    def check_link(self, token: str) -> Rated:
        """What the link stands for, recording nothing (the rating page shows it)."""
        now = self.policy.clock()
        try:
            link = verify(self.policy.secret, token, now)
        except BadLink:
            return Rated(Outcome.INVALID)
        except ExpiredLink:
            return Rated(Outcome.EXPIRED)
        with self._db.read() as session:
            survey = session.get(SatisfactionRating, link.rating_id)
            if survey is None:
                return Rated(Outcome.INVALID)
            return self._standing(survey, now, link.score)

    def rate_by_link(self, token: str, comment: str | None) -> Rated:
        try:
            link = verify(self.policy.secret, token, self.policy.clock())
        except BadLink:
            return Rated(Outcome.INVALID)
        except ExpiredLink:
            return Rated(Outcome.EXPIRED)
        return self._rate(link.rating_id, link.score, comment, user=None)

    def add_comment(self, rating_id: int, user: str, comment: str) -> Rated:
        """A comment on a rating just given by button (once: a comment is never replaced)."""
        text = comment.strip()[:MAX_COMMENT]
        now = self.policy.clock()
        with self._db.write() as session:
            survey = session.get(SatisfactionRating, rating_id, with_for_update=True)
            if survey is None:
                return Rated(Outcome.INVALID)
            if survey.requester != user:
                return Rated(Outcome.NOT_YOURS)
            if survey.score is None or survey.comment is not None or not text:
                return Rated(Outcome.ALREADY, format_number(survey.ticket_id), survey.score, survey.id)
            survey.comment = text
            self._said(session, survey, now, comment_only=True)
            return Rated(Outcome.RECORDED, format_number(survey.ticket_id), survey.score, survey.id)

    def _rate(self, rating_id: int, score: int, comment: str | None, *, user: str | None) -> Rated:
        if score not in SCORES:
            return Rated(Outcome.INVALID)
        text = (comment or "").strip()[:MAX_COMMENT] or None
        now = self.policy.clock()
        with self._db.write() as session:
            survey = session.get(SatisfactionRating, rating_id)
            if survey is None:
                return Rated(Outcome.INVALID)
            if user is not None and survey.requester != user:
                return Rated(Outcome.NOT_YOURS)
            recorded = session.execute(
                update(SatisfactionRating)
                .where(
                    SatisfactionRating.id == rating_id,
                    SatisfactionRating.rated_at.is_(None),
                    SatisfactionRating.expires_at > now,
                )
                .values(score=score, comment=text, rated_at=now)
                .execution_options(synchronize_session=False)
            )
            if recorded.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(survey)
                return self._standing(survey, now, score)
            session.refresh(survey)
            self._said(session, survey, now)
            return Rated(Outcome.RECORDED, format_number(survey.ticket_id), score, survey.id)

    @staticmethod
    def _standing(survey: SatisfactionRating, now: datetime, score: int) -> Rated:
        number = format_number(survey.ticket_id)
        if survey.rated_at is not None:
            return Rated(Outcome.ALREADY, number, survey.score, survey.id)
        if survey.expires_at <= now:
            return Rated(Outcome.EXPIRED, number)
        return Rated(Outcome.OPEN, number, score, survey.id)

    def _said(self, session: Session, survey: SatisfactionRating, now: datetime, *, comment_only: bool = False) -> None:
        """The rating (or its late comment) in the audit trail and the card's thread."""
        kind = "rating_comment" if comment_only else "rated"
        session.add(audit_event(survey.ticket_id, survey.requester, kind, None, str(survey.score), survey.comment, now))
        ticket = session.get(Ticket, survey.ticket_id)
        channel = (ticket.card_channel if ticket else None) or self.policy.support_channel
        enqueue(
            session, PostKind.CARD_THREAD, now, ticket_id=survey.ticket_id, channel=channel,
            text=rated_line(survey.requester, survey.score or 0, survey.comment, comment_only=comment_only),
        )
