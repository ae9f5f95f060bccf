"""Publishing the App Home tab, and refreshing it when a ticket or the desk it shows changes."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import UTC, tzinfo
from typing import Any

from slack_sdk import WebClient

from bot.services.customer_channels import CustomerChannels
from bot.services.directory import Directory, PersonRecord, Role, TeamRecord
from bot.services.queries import TicketQueries
from bot.services.status import Priority
from bot.services.tickets import utcnow
from bot.views.admin import CC_SETTING, admin_blocks, availability_blocks, my_teams_blocks
from bot.views.customer_channels import customer_channels_context
from bot.views.home import home_view

SHOWN = 10


class HomeTab:
    def __init__(self, queries: TicketQueries, system_users: Collection[str], directory: Directory | None = None,
                 tz: tzinfo = UTC) -> None:
        self._queries = queries
        self._agents = system_users
        self._directory = directory
        self._tz = tz
        # Who has opened the tab since the bot started: only their tabs are kept fresh.
        self._viewers: set[str] = set()
        # The page of people and of teams each admin is looking at.
        self._pages: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        # Customer channels (Slack Connect), listed in the Admin section when set.
        self.customers: CustomerChannels | None = None

    def turn_page(self, user: str, kind: str, page: int) -> None:
        with self._lock:
            self._pages[(user, kind)] = max(page, 0)

    def publish(
        self, client: WebClient, user: str, team_url: str | None, counts: dict[Priority, int] | None = None
    ) -> None:
        """``counts``: the desk's open tickets by priority, when the caller has them (a refresh
        reads them once for every tab it publishes)."""
        with self._lock:
            self._viewers.add(user)
        now = utcnow()
        person, teams = self._directory.person_and_teams(user) if self._directory is not None else (None, [])
        if person is None and self._directory is None and user in self._agents:
            person = PersonRecord(user, Role.AGENT, False, None)
        lists = self._queries.home_lists(user, SHOWN, agent=person is not None, counts=counts)
        if person is None:
            client.views_publish(user_id=user, view=home_view(now, team_url, lists.own))
            return
        view = home_view(
            now,
            team_url,
            lists.own,
            assigned=lists.assigned,
            queue=lists.queue,
            open_by_priority=lists.open_by_priority,
            desk=self._desk_blocks(person, teams) if self._directory is not None else None,
            admin=self._admin_blocks(user) if person.role is Role.ADMIN else None,
        )
        client.views_publish(user_id=user, view=view)

    def _desk_blocks(self, person: PersonRecord, teams: list[TeamRecord]) -> list[dict[str, Any]]:
        return [*availability_blocks(person, utcnow(), self._tz), *my_teams_blocks(teams, person.user_id)]

    def _admin_blocks(self, user: str) -> list[dict[str, Any]] | None:
        if self._directory is None:
            return None
        with self._lock:
            people_page = self._pages.get((user, "people"), 0)
            teams_page = self._pages.get((user, "teams"), 0)
        shown = self._directory.admin_overview(CC_SETTING)
        blocks = admin_blocks(shown.people, shown.teams, shown.rules, shown.setting, utcnow(), self._tz, people_page, teams_page)
        if self.customers is not None:
            blocks.append(customer_channels_context(self.customers.overview()))
        return blocks

    def refresh(self, client: WebClient, team_url: str | None, people: set[str]) -> None:
        """Re-publish the tabs that show a ticket or the desk: these people's, and every
        agent's (the queue, their teams, the admin section). A Slack refusal raises, so the
        outbox row that asked for it is tried again."""
        with self._lock:
            viewers = set(self._viewers)
        users = {u for u in viewers if u in people or u in self._agents}
        counts = self._queries.open_by_priority() if users else None
        for user in sorted(users):
            self.publish(client, user, team_url, counts)
