"""What listeners need, handed to them through Bolt's request context."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.errors import ErrorReporter
from bot.notifier import TicketNotifier
from bot.services.queries import TicketQueries
from bot.services.tickets import TicketService

CONTEXT_KEY = "casedesk"


@dataclass(frozen=True)
class Deps:
    settings: Settings
    tickets: TicketService
    queries: TicketQueries
    notifier: TicketNotifier
    errors: ErrorReporter

    def notifier_for(self, client: WebClient) -> TicketNotifier:
        return self.notifier.with_client(client)


def deps_of(context: BoltContext) -> Deps:
    deps: Deps = context[CONTEXT_KEY]
    return deps
