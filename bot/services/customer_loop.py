"""The customer loop wired from the settings: auto-close, and the satisfaction surveys owed
by every resolution written through the desk's database."""

from __future__ import annotations

from datetime import timedelta

from bot.services import surveys
from bot.services.auto_close import AutoClose
from bot.services.surveys import SurveyPolicy, Surveys
from bot.services.tickets import Clock, TicketService
from bot.settings import Settings
from db.session import Database


def customer_loop(settings: Settings, db: Database, tickets: TicketService, clock: Clock) -> tuple[AutoClose, Surveys]:
    levels = settings.service_levels
    mail_from = settings.smtp.from_addr if settings.smtp else None
    auto_close = AutoClose(db, tickets, levels, support_channel=settings.support_channel, mail_from=mail_from, clock=clock)
    policy = SurveyPolicy(
        sample=levels.csat_sample,
        cooldown=timedelta(days=levels.csat_cooldown_days),
        valid_for=timedelta(days=levels.csat_link_days),
        support_channel=settings.support_channel,
        secret=settings.survey_secret,
        public_url=settings.public_url,
        mail_from=mail_from,
        clock=clock,
    )
    surveys.serve(db, policy)
    return auto_close, Surveys(db, policy)
