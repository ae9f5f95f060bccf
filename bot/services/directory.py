"""The desk's people and teams: who is an agent or an admin, who is away, which teams
there are with their members, channels and recipients, the routing rules, and the
settings admins change from Slack.

Every change is an admin's (or, for being away, the person's own), checked here, written
with a row in the desk's audit trail (``desk_events``), and takes effect at once: the
listeners ask the directory on every action, nothing is cached across requests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from bot.services.errors import ServiceError
from bot.services.outbox import PostKind, enqueue
from bot.services.team_service_levels import TeamLevels, all_team_levels, read_team_levels, store_team_levels
from bot.services.tickets import Clock, utcnow
from bot.settings.values import is_email
from db.models import DeskEvent, DeskSetting, Person, RoutingRule, Team, TeamMember
from db.session import Database

log = logging.getLogger(__name__)

DEFAULT_TEAM = "Support"
RULE_FIELDS = ("issue_type", "campaign", "intake_channel", "mailbox", "account")
AUTO_ASSIGN = ("off", "round_robin", "least_open")

# Called in the transaction that takes someone out of a team (team id, user, actor): the
# tickets they held there go back to the team's queue.
LeaveHook = Callable[[Session, int, str, str], None]


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    NONE = "none"


class NotAllowed(ServiceError):
    """A desk change refused: the message says why and what to do; ``field`` names the
    modal input it is about, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(ServiceError):
    """Someone else changed the same thing first; nothing was written."""


@dataclass(frozen=True)
class PersonRecord:
    user_id: str
    role: Role
    away: bool
    away_until: datetime | None

    def available(self, now: datetime) -> bool:
        if self.away_until is not None and self.away_until > now:
            return False
        return not self.away

    @classmethod
    def of(cls, row: Person) -> PersonRecord:
        return cls(row.user_id, Role(row.role), row.away, row.away_until)


@dataclass(frozen=True)
class TeamRecord:
    id: int
    name: str
    triage_channel: str | None
    notify_emails: tuple[str, ...]
    lead_id: str | None
    auto_assign: str
    last_assigned_id: str | None
    is_default: bool
    members: tuple[str, ...]
    version: int

    @classmethod
    def of(cls, row: Team, members: list[str]) -> TeamRecord:
        emails = tuple(e.strip() for e in (row.notify_emails or "").split(",") if e.strip())
        return cls(row.id, row.name, row.triage_channel, emails, row.lead_id, row.auto_assign, row.last_assigned_id,
                   row.is_default, tuple(sorted(members)), row.version)


@dataclass(frozen=True)
class RuleRecord:
    id: int
    position: int
    field: str
    value: str
    team_id: int


@dataclass(frozen=True)
class AdminOverview:
    """What the Home tab's Admin section lists: everyone with a role, the teams, how many
    routing rules there are, and one desk setting's value."""

    people: list[PersonRecord]
    teams: list[TeamRecord]
    rules: int
    setting: str


@dataclass(frozen=True)
class NewRule:
    field: str
    value: str
    team_id: int


@dataclass(frozen=True)
class TeamDraft:
    """A team as an admin saves it from the team modal: every field at once."""

    name: str
    triage_channel: str | None
    notify_emails: tuple[str, ...]
    lead_id: str | None
    members: tuple[str, ...]
    auto_assign: str
    # Its own service levels, checked (check_team_levels); None leaves them as they are.
    levels: TeamLevels | None = None


def parse_addresses(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Comma-, semicolon- or line-separated addresses: (the good ones, in order and without
    repeats; the malformed ones)."""
    good: list[str] = []
    bad: list[str] = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if not address:
            continue
        if not is_email(address):
            bad.append(address)
        elif address.lower() not in (g.lower() for g in good):
            good.append(address)
    return tuple(good), bad


_ALL_TEAMS = select(Team).order_by(Team.is_default.desc(), Team.name)


def _people(session: Session) -> list[PersonRecord]:
    return [PersonRecord.of(r) for r in session.scalars(select(Person).order_by(Person.user_id))]


class Directory:
    def __init__(self, db: Database, bootstrap_admins: frozenset[str], *, clock: Clock = utcnow) -> None:
        self._db = db
        self._bootstrap = bootstrap_admins
        self._clock = clock
        self.on_leave: LeaveHook | None = None
        # Set when the start's bootstrap met a database that was down: done on the next read.
        self._bootstrap_owed = False
        self._bootstrap_lock = threading.Lock()

    # ---- reads -------------------------------------------------------------------

    def person(self, user_id: str) -> PersonRecord | None:
        self._catch_up()
        with self._db.read() as session:
            row = session.get(Person, user_id)
            return PersonRecord.of(row) if row else None

    def role_of(self, user_id: str) -> Role:
        found = self.person(user_id)
        return found.role if found else Role.NONE

    def is_agent(self, user_id: str) -> bool:
        """Agents and admins work tickets."""
        return self.role_of(user_id) is not Role.NONE

    def is_admin(self, user_id: str) -> bool:
        return self.role_of(user_id) is Role.ADMIN

    def people(self) -> list[PersonRecord]:
        self._catch_up()
        with self._db.read() as session:
            return _people(session)

    def agents(self) -> frozenset[str]:
        self._catch_up()
        with self._db.read() as session:
            return frozenset(session.scalars(select(Person.user_id)))

    def teams(self) -> list[TeamRecord]:
        with self._db.read() as session:
            return self._teams(session, _ALL_TEAMS)

    def admin_overview(self, setting: str) -> AdminOverview:
        """The Admin section's reads in one session (each session is a pool checkout, and on
        PostgreSQL its ping and its reset are round trips of their own)."""
        self._catch_up()
        with self._db.read() as session:
            row = session.get(DeskSetting, setting)
            return AdminOverview(
                _people(session),
                self._teams(session, _ALL_TEAMS),
                session.scalar(select(func.count()).select_from(RoutingRule)) or 0,
                row.value if row else "",
            )

    def team(self, team_id: int) -> TeamRecord | None:
        with self._db.read() as session:
            found = self._teams(session, select(Team).where(Team.id == team_id))
            return found[0] if found else None

    def team_named(self, name: str) -> TeamRecord | None:
        with self._db.read() as session:
            found = self._teams(session, select(Team).where(func.lower(Team.name) == name.strip().lower()))
            return found[0] if found else None

    def default_team(self) -> TeamRecord:
        with self._db.read() as session:
            found = self._teams(session, select(Team).where(Team.is_default.is_(True)))
        if not found:
            raise LookupError("no default team: run the migrations (python -m bot db upgrade)")
        return found[0]

    def teams_of(self, user_id: str) -> list[TeamRecord]:
        with self._db.read() as session:
            return self._teams_of(session, user_id)

    def person_and_teams(self, user_id: str) -> tuple[PersonRecord | None, list[TeamRecord]]:
        """``person`` and, for someone with a role, ``teams_of``, in one session (the Home tab
        reads both for every agent who opens it)."""
        self._catch_up()
        with self._db.read() as session:
            row = session.get(Person, user_id)
            if row is None:
                return None, []
            return PersonRecord.of(row), self._teams_of(session, user_id)

    def team_ids_of(self, user_id: str) -> frozenset[int]:
        with self._db.read() as session:
            return frozenset(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))

    def service_levels_of(self, team_id: int) -> TeamLevels:
        """The team's own service levels, as written (empty: the desk's)."""
        with self._db.read() as session:
            return read_team_levels(session, team_id)

    def service_levels(self) -> dict[int, TeamLevels]:
        """Every team's own service levels that has some."""
        with self._db.read() as session:
            return all_team_levels(session)

    def rules(self) -> list[RuleRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
            return [RuleRecord(r.id, r.position, r.field, r.value, r.team_id) for r in rows]

    def setting(self, name: str) -> tuple[str, int]:
        """A desk setting's value and version ("" and 0 when never set)."""
        with self._db.read() as session:
            row = session.get(DeskSetting, name)
            return (row.value, row.version) if row else ("", 0)

    def _teams_of(self, session: Session, user_id: str) -> list[TeamRecord]:
        mine = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
        return self._teams(session, select(Team).where(Team.id.in_(mine)).order_by(Team.name))

    @staticmethod
    def _teams(session: Session, query: object) -> list[TeamRecord]:
        rows = list(session.scalars(query))  # type: ignore[call-overload]
        members: dict[int, list[str]] = {r.id: [] for r in rows}
        if rows:
            for team_id, user_id in session.execute(
                select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(list(members)))
            ):
                members[team_id].append(user_id)
        return [TeamRecord.of(r, members[r.id]) for r in rows]

    # ---- the start ---------------------------------------------------------------------

    def bootstrap_soon(self) -> None:
        """Bootstrap now, or, with the database down at start, on the first question asked
        once it answers (the bot starts anyway and says so)."""
        try:
            self.bootstrap()
        except SQLAlchemyError:
            log.warning("the database is not answering: SYSTEM_USERS are made admins once it does")
            self._bootstrap_owed = True

    def _catch_up(self) -> None:
        if self._bootstrap_owed:
            with self._bootstrap_lock:
                if self._bootstrap_owed:
                    self.bootstrap()
                    self._bootstrap_owed = False

    def bootstrap(self) -> list[str]:
        """SYSTEM_USERS are admins when the desk has none (a new desk, or one just migrated);
        a default team exists and holds them. Returns the users made admins."""
        now = self._clock()
        with self._db.write() as session:
            team = session.scalars(select(Team).where(Team.is_default.is_(True))).first()
            if team is None:
                team = Team(name=DEFAULT_TEAM, is_default=True, created_at=now, notify_emails="", auto_assign="off")
                session.add(team)
                session.flush()
            if session.scalars(select(Person).where(Person.role == Role.ADMIN.value)).first() is not None:
                return []
            made = sorted(self._bootstrap)
            for user in made:
                row = session.get(Person, user)
                if row is None:
                    session.add(Person(user_id=user, role=Role.ADMIN.value, away=False, created_at=now, updated_at=now))
                    session.flush()
                else:
                    row.role, row.updated_at = Role.ADMIN.value, now
                if session.get(TeamMember, (team.id, user)) is None:
                    session.add(TeamMember(team_id=team.id, user_id=user, added_at=now))
                session.add(self._event(user, "bootstrap_admin", user, Role.NONE.value, Role.ADMIN.value, now))
            return made

    # ---- changes -------------------------------------------------------------------------

    def set_role(self, actor: str, user_id: str, role: Role) -> None:
        """Make someone an agent or an admin, or (Role.NONE) take their role away."""
        now = self._clock()
        with self._db.write() as session:
            self._require_admin(session, actor)
            row = session.get(Person, user_id, with_for_update=True)
            before = Role(row.role) if row else Role.NONE
            if before is role:
                return
            if before is Role.ADMIN and self._admin_count(session) <= 1:
                raise NotAllowed(f"<@{user_id}> is the desk's last admin: make someone else an admin first.")
            if role is Role.NONE:
                assert row is not None
                for team_id in list(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))):
                    self._leave(session, team_id, user_id, actor)
                for team in session.scalars(select(Team).where(Team.lead_id == user_id)):
                    team.lead_id = None
                    session.add(self._event(actor, "team_lead_id", team.name, user_id, None, now))
                session.delete(row)
            elif row is None:
                session.add(Person(user_id=user_id, role=role.value, away=False, created_at=now, updated_at=now))
            else:
                row.role, row.updated_at = role.value, now
            session.add(self._event(actor, "role", user_id, before.value, role.value, now))
            self._owe_homes(session, now, {user_id})

    def add_agent(self, actor: str, user_id: str, role: Role, team_ids: Collection[int] = ()) -> None:
        """Someone new at the desk: an agent or an admin, in these teams, at once."""
        if role is Role.NONE:
            raise ValueError("add_agent adds an agent or an admin")
        now = self._clock()
        with self._db.write() as session:
            self._require_admin(session, actor)
            row = session.get(Person, user_id, with_for_update=True)
            if row is not None:
                raise NotAllowed(
                    f"<@{user_id}> is already {'an admin' if row.role == Role.ADMIN.value else 'an agent'}: "
                    "use the menu beside them to change their role.",
                    "user",
                )
            teams = [session.get(Team, t) for t in sorted(set(team_ids))]
            if any(t is None for t in teams):
                raise NotAllowed("One of those teams no longer exists: open Add agent again.", "teams")
            session.add(Person(user_id=user_id, role=role.value, away=False, created_at=now, updated_at=now))
            session.flush()
            session.add(self._event(actor, "role", user_id, Role.NONE.value, role.value, now))
            for team in teams:
                assert team is not None
                session.add(TeamMember(team_id=team.id, user_id=user_id, added_at=now))
                flag_modified(team, "name")  # a new version: a team modal opened before this is stale
                session.add(self._event(actor, "team_member_added", team.name, None, user_id, now))
            self._owe_homes(session, now, {user_id})

    def set_away(self, actor: str, user_id: str, away: bool, until: datetime | None = None) -> None:
        """Away (until a time, or until they say otherwise) or back; one's own, or an admin's doing."""
        now = self._clock()
        with self._db.write() as session:
            if actor != user_id:
                self._require_admin(session, actor)
            row = session.get(Person, user_id, with_for_update=True)
            if row is None:
                raise NotAllowed("Only agents can be away: they are the ones new tickets go to.")
            if until is not None and until <= now:
                raise NotAllowed("Choose a time in the future to be away until.")
            before = "away" if row.away or (row.away_until and row.away_until > now) else "available"
            row.away, row.away_until, row.updated_at = away and until is None, until if away else None, now
            after = f"away until {until.isoformat()}" if away and until else "away" if away else "available"
            session.add(self._event(actor, "away", user_id, before, after, now))
            self._owe_homes(session, now, {user_id})

    def create_team(self, actor: str, name: str, *, triage_channel: str | None = None, notify_emails: tuple[str, ...] = (),
                    lead_id: str | None = None) -> TeamRecord:
        now = self._clock()
        clean = name.strip()
        if not clean:
            raise NotAllowed("Give the team a name.")
        with self._db.write() as session:
            self._require_admin(session, actor)
            if session.scalars(select(Team).where(func.lower(Team.name) == clean.lower())).first():
                raise NotAllowed(f"There is already a team called {clean}.")
            row = Team(name=clean, triage_channel=triage_channel, notify_emails=",".join(notify_emails), lead_id=lead_id,
                       auto_assign="off", is_default=False, created_at=now)
            session.add(row)
            session.flush()
            session.add(self._event(actor, "team_created", clean, None, clean, now))
            return TeamRecord.of(row, [])

    def update_team(self, actor: str, team_id: int, version: int, **changes: object) -> TeamRecord:
        """Change a team's name, triage_channel, notify_emails, lead_id or auto_assign, as of
        ``version``: if another admin saved first, Conflict and nothing changes."""
        now = self._clock()
        allowed = {"name", "triage_channel", "notify_emails", "lead_id", "auto_assign"}
        if set(changes) - allowed:
            raise ValueError(f"unknown team fields: {sorted(set(changes) - allowed)}")
        try:
            with self._db.write() as session:
                self._require_admin(session, actor)
                row = session.get(Team, team_id, with_for_update=True)
                if row is None:
                    raise NotAllowed("That team no longer exists.")
                if row.version != version:
                    raise Conflict(f"Someone else changed {row.name} meanwhile: open it again to see their change.")
                for field, value in changes.items():
                    if field == "notify_emails" and isinstance(value, tuple | list):
                        value = ",".join(str(v) for v in value)
                    if field == "auto_assign" and value not in AUTO_ASSIGN:
                        raise NotAllowed("Automatic assignment is off, round_robin or least_open.")
                    before = getattr(row, field)
                    if before != value:
                        setattr(row, field, value)
                        session.add(self._event(actor, f"team_{field}", row.name, _text(before), _text(value), now))
                session.flush()
                members = list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)))
                return TeamRecord.of(row, members)
        except StaleDataError:
            raise Conflict("Someone else changed this team meanwhile: open it again to see their change.") from None

    def save_team(self, actor: str, team_id: int | None, version: int, draft: TeamDraft) -> TeamRecord:
        """Create a team (``team_id`` None) or change every field of one as of ``version``,
        members included, in one transaction: if another admin saved it first, Conflict and
        nothing changes. A refusal names the field (name, lead, members, auto_assign)."""
        now = self._clock()
        name = draft.name.strip()
        if not name:
            raise NotAllowed("Give the team a name.", "name")
        if draft.auto_assign not in AUTO_ASSIGN:
            raise NotAllowed("Automatic assignment is off, round-robin or least open tickets.", "auto_assign")
        members = sorted(set(draft.members))
        if not members and draft.auto_assign != "off":
            raise NotAllowed("A team that assigns tickets automatically needs members: add some, or turn it off.", "members")
        try:
            with self._db.write() as session:
                self._require_admin(session, actor)
                known = set(session.scalars(select(Person.user_id).where(Person.user_id.in_(members + [draft.lead_id or ""]))))
                strangers = [u for u in members if u not in known]
                if strangers:
                    who = ", ".join(f"<@{u}>" for u in strangers)
                    raise NotAllowed(f"{who} {'is not an agent' if len(strangers) == 1 else 'are not agents'}: "
                                     "add them with Add agent first, or leave them out.", "members")
                if draft.lead_id and draft.lead_id not in known:
                    raise NotAllowed(f"<@{draft.lead_id}> is not an agent: add them with Add agent first, or choose another lead.",
                                     "lead")
                same_name = session.scalars(select(Team).where(func.lower(Team.name) == name.lower())).first()
                if same_name is not None and same_name.id != team_id:
                    raise NotAllowed(f"There is already a team called {same_name.name}: choose another name.", "name")
                fields = {"name": name, "triage_channel": draft.triage_channel or None,
                          "notify_emails": ",".join(draft.notify_emails), "lead_id": draft.lead_id or None,
                          "auto_assign": draft.auto_assign}
                if team_id is None:
                    row = Team(is_default=False, created_at=now, **fields)
                    session.add(row)
                    session.flush()
                    session.add(self._event(actor, "team_created", name, None, name, now))
                    before: list[str] = []
                else:
                    found = session.get(Team, team_id, with_for_update=True)
                    if found is None:
                        raise NotAllowed("That team no longer exists.", "name")
                    row = found
                    if row.version != version:
                        raise Conflict(f"Someone else changed {row.name} meanwhile: close this and open it again to see their change.")
                    for field, value in fields.items():
                        was = getattr(row, field)
                        if (was or None) != (value or None):
                            setattr(row, field, value)
                            session.add(self._event(actor, f"team_{field}", name, _text(was), _text(value), now))
                    flag_modified(row, "name")  # always a new version, members alone included
                    before = list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == row.id)))
                if draft.levels is not None:
                    changed = store_team_levels(session, row.id, draft.levels, now)
                    if changed is not None:
                        session.add(self._event(actor, "team_service_levels", name, *changed, now))
                for user in members:  # joins first, so a team never passes through empty
                    if user not in before:
                        session.add(TeamMember(team_id=row.id, user_id=user, added_at=now))
                        session.add(self._event(actor, "team_member_added", name, None, user, now))
                session.flush()
                for user in before:
                    if user not in members:
                        self._leave(session, row.id, user, actor, bump=False)
                session.flush()
                self._owe_homes(session, now, set(before) | set(members))
                return TeamRecord.of(row, members)
        except StaleDataError:
            raise Conflict("Someone else changed this team meanwhile: close this and open it again to see their change.") from None

    def add_member(self, actor: str, team_id: int, user_id: str) -> None:
        now = self._clock()
        with self._db.write() as session:
            self._require_admin(session, actor)
            team = session.get(Team, team_id)
            if team is None:
                raise NotAllowed("That team no longer exists.")
            if session.get(Person, user_id) is None:
                raise NotAllowed(f"<@{user_id}> is not an agent: add them as an agent first.")
            if session.get(TeamMember, (team_id, user_id)) is None:
                session.add(TeamMember(team_id=team_id, user_id=user_id, added_at=now))
                flag_modified(team, "name")
                session.add(self._event(actor, "team_member_added", team.name, None, user_id, now))
                self._owe_homes(session, now, {user_id})

    def remove_member(self, actor: str, team_id: int, user_id: str) -> None:
        with self._db.write() as session:
            self._require_admin(session, actor)
            self._leave(session, team_id, user_id, actor)
            self._owe_homes(session, self._clock(), {user_id})

    def set_rules(self, actor: str, rules: list[NewRule]) -> list[RuleRecord]:
        """Replace the routing rules, in order (first match wins)."""
        now = self._clock()
        for rule in rules:
            if rule.field not in RULE_FIELDS:
                raise NotAllowed(f"A rule matches on {', '.join(RULE_FIELDS)}, not {rule.field}.")
            if not rule.value.strip():
                raise NotAllowed("A rule needs a value to match.")
        with self._db.write() as session:
            self._require_admin(session, actor)
            known = set(session.scalars(select(Team.id)))
            if any(rule.team_id not in known for rule in rules):
                raise NotAllowed("A rule names a team that no longer exists.")
            before = [f"{r.field}={r.value}→{r.team_id}" for r in session.scalars(select(RoutingRule).order_by(RoutingRule.position))]
            session.execute(delete(RoutingRule))
            for position, rule in enumerate(rules, 1):
                session.add(RoutingRule(position=position, field=rule.field, value=rule.value.strip(), team_id=rule.team_id,
                                        created_at=now))
            after = [f"{r.field}={r.value.strip()}→{r.team_id}" for r in rules]
            session.add(self._event(actor, "routing_rules", "routing", "; ".join(before), "; ".join(after), now))
        return self.rules()

    def add_rule(self, actor: str, rule: NewRule) -> RuleRecord:
        """Append a routing rule (checked after those already there)."""
        now = self._clock()
        if rule.field not in RULE_FIELDS:
            raise NotAllowed(f"A rule matches on {', '.join(RULE_FIELDS)}, not {rule.field}.", "field")
        value = rule.value.strip()
        if not value:
            raise NotAllowed("A rule needs a value to match.", "value")
        with self._db.write() as session:
            self._require_admin(session, actor)
            team = session.get(Team, rule.team_id)
            if team is None:
                raise NotAllowed("That team no longer exists: choose another.", "team")
            rows = list(session.scalars(select(RoutingRule).order_by(RoutingRule.position).with_for_update()))
            clash = next((r for r in rows if r.field == rule.field and r.value.lower() == value.lower()), None)
            if clash is not None:
                raise NotAllowed(f"Rule {rows.index(clash) + 1} already matches {value}: remove it first to change its team.",
                                 "value")
            position = max((r.position for r in rows), default=0) + 1
            row = RoutingRule(position=position, field=rule.field, value=value, team_id=team.id, created_at=now)
            session.add(row)
            session.flush()
            session.add(self._event(actor, "routing_rule_added", f"{rule.field}={value}", None, team.name, now))
            self._owe_homes(session, now, set())
            return RuleRecord(row.id, row.position, row.field, row.value, row.team_id)

    def remove_rule(self, actor: str, rule_id: int) -> None:
        now = self._clock()
        with self._db.write() as session:
            self._require_admin(session, actor)
            row = session.get(RoutingRule, rule_id, with_for_update=True)
            if row is None:
                return  # removed already (a second click, another admin)
            team = session.get(Team, row.team_id)
            session.delete(row)
            session.add(self._event(actor, "routing_rule_removed", f"{row.field}={row.value}", team.name if team else None, None, now))
            self._owe_homes(session, now, set())

    def set_setting(self, actor: str, name: str, value: str, version: int) -> None:
        """Change a desk setting as of ``version`` (0: never set); Conflict if someone saved first."""
        now = self._clock()
        try:
            with self._db.write() as session:
                self._require_admin(session, actor)
                row = session.get(DeskSetting, name, with_for_update=True)
                current = row.version if row else 0
                if current != version:
                    raise Conflict("Someone else changed this setting meanwhile: open it again to see their change.")
                before = row.value if row else ""
                if row is None:
                    session.add(DeskSetting(name=name, value=value, updated_at=now))
                else:
                    row.value, row.updated_at = value, now
                    flag_modified(row, "value")
                session.add(self._event(actor, f"setting_{name}", name, before, value, now))
                self._owe_homes(session, now, set())
        except StaleDataError:
            raise Conflict("Someone else changed this setting meanwhile: open it again to see their change.") from None

    # ---- internals -------------------------------------------------------------------------

    def _require_admin(self, session: Session, actor: str) -> None:
        row = session.get(Person, actor)
        if row is None or row.role != Role.ADMIN.value:
            raise NotAllowed("Only admins can change the desk's people, teams and rules.")

    @staticmethod
    def _admin_count(session: Session) -> int:
        """How many admins there are, their rows locked: two admins revoking each other at
        once cannot leave the desk with none."""
        return len(list(session.scalars(select(Person.user_id).where(Person.role == Role.ADMIN.value).with_for_update())))

    def _owe_homes(self, session: Session, now: datetime, people: set[str]) -> None:
        """Re-publish the Home tabs a desk change shows on: these people's and every agent's
        (the admin section, My teams)."""
        enqueue(session, PostKind.HOME, now, text=",".join(sorted(people)))

    def _leave(self, session: Session, team_id: int, user_id: str, actor: str, *, bump: bool = True) -> None:
        membership = session.get(TeamMember, (team_id, user_id))
        if membership is None:
            return
        team = session.get(Team, team_id)
        session.delete(membership)
        session.flush()
        if team is not None:
            if team.auto_assign != "off" and not session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)).first():
                raise NotAllowed(
                    f"<@{user_id}> is the last member of {team.name}, which assigns tickets automatically: "
                    f"add someone to {team.name} or turn its automatic assignment off first.", "members")
            if bump:
                flag_modified(team, "name")
        if self.on_leave is not None:
            self.on_leave(session, team_id, user_id, actor)
        session.add(self._event(actor, "team_member_removed", team.name if team else str(team_id), user_id, None, self._clock()))

    @staticmethod
    def _event(actor: str, kind: str, subject: str, before: str | None, after: str | None, now: datetime) -> DeskEvent:
        return DeskEvent(actor_id=actor, kind=kind, subject=subject, from_value=before, to_value=after, created_at=now)

    def events(self, limit: int = 50) -> list[DeskEvent]:
        with self._db.read() as session:
            return list(session.scalars(select(DeskEvent).order_by(DeskEvent.id.desc()).limit(limit)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class LiveAgents(Collection[str]):
    """The agents as the directory holds them now, usable where a set of user IDs is
    expected (``user in agents``): each question is asked of the database."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, str) and self._directory.is_agent(user_id)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._directory.agents()))

    def __len__(self) -> int:
        return len(self._directory.agents())
