"""Publishing the App Home tab, and refreshing it when a ticket it shows changes."""

from __future__ import annotations

import threading
from collections.abc import Collection

from slack_sdk import WebClient

from bot.services.queries import TicketFilter, TicketQueries
from bot.services.status import ACTIVE
from bot.services.tickets import utcnow
from bot.views.home import home_view

SHOWN = 10


class HomeTab:
    def __init__(self, queries: TicketQueries, system_users: Collection[str]) -> None:
        self._queries = queries
        self._agents = system_users
        # Who has opened the tab since the bot started: only their tabs are kept fresh.
        self._viewers: set[str] = set()
        self._lock = threading.Lock()

    def publish(self, client: WebClient, user: str, team_url: str | None) -> None:
        with self._lock:
            self._viewers.add(user)
        active = tuple(ACTIVE)
        own = self._queries.page(user, TicketFilter(reporter_id=user, statuses=active), 0, SHOWN).tickets
        view = (
            home_view(
                utcnow(),
                team_url,
                own,
                assigned=self._queries.page(user, TicketFilter(assignee_id=user, statuses=active), 0, SHOWN).tickets,
                queue=self._queries.unassigned_queue(user, SHOWN),
                open_by_priority=self._queries.open_by_priority(),
            )
            if user in self._agents
            else home_view(utcnow(), team_url, own)
        )
        client.views_publish(user_id=user, view=view)

    def refresh(self, client: WebClient, team_url: str | None, people: set[str]) -> None:
        """Re-publish the tabs that show a ticket: its people's, and every agent's (the queue).
        A Slack refusal raises, so the outbox row that asked for it is tried again."""
        with self._lock:
            users = {u for u in self._viewers if u in people or u in self._agents}
        for user in sorted(users):
            self.publish(client, user, team_url)
