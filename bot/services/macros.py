"""Canned replies (macros): a named reply text with variables, picked in the Reply modal,
optionally putting the case in a status once the reply is sent.

Variables are ``{requester}``, ``{number}``, ``{agent}`` and ``{title}``. They are filled in
as plain text, and the reply is stored as written and escaped once where it is shown, so
a title such as ``<!channel>`` reaches the requester as those characters, not a ping.
A macro naming any other variable is refused when it is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.services.errors import PermissionDenied
from bot.services.status import Status
from bot.services.tickets import Clock, TicketService, utcnow
from db.models import Macro
from db.session import Database

VARIABLES = ("requester", "number", "agent", "title")
PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
# What a macro may do to the case after its reply: nothing, or one of these.
STATUSES = (Status.WAITING, Status.RESOLVED, Status.CLOSED)
NAME_LIMIT = 60
LISTED = 100  # a static_select's options


class InvalidMacro(ValueError):
    """Inline errors by the modal's block id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class MacroRecord:
    id: int
    name: str
    body: str
    status: Status | None


def unknown_variables(body: str) -> list[str]:
    return list(dict.fromkeys(name for name in PLACEHOLDER.findall(body) if name not in VARIABLES))


def render(body: str, values: Mapping[str, str]) -> str:
    """The text with its known variables filled in (anything else in braces left as written)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def variable_error(body: str) -> str | None:
    unknown = unknown_variables(body)
    if not unknown:
        return None
    named = ", ".join(f"{{{v}}}" for v in unknown)
    known = ", ".join(f"{{{v}}}" for v in VARIABLES)
    return f"Unknown variable {named}: a macro can use {known}."


class Macros:
    def __init__(self, db: Database, tickets: TicketService, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self._clock = clock

    def listed(self) -> list[MacroRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(Macro).order_by(Macro.name).limit(LISTED))
            return [_record(r) for r in rows]

    def get(self, macro_id: int) -> MacroRecord | None:
        with self._db.read() as session:
            row = session.get(Macro, macro_id)
            return _record(row) if row else None

    def save(self, agent: str, name: str, body: str, status: Status | None, *, body_block: str = "body") -> MacroRecord:
        """A new macro; refused with inline errors (an empty or taken name, an unknown variable)."""
        if not self._tickets.is_agent(agent):
            raise PermissionDenied("save macros for")
        name, errors = " ".join(name.split()), {}
        if not name or len(name) > NAME_LIMIT:
            errors["save_as"] = f"Name the macro in 1 to {NAME_LIMIT} characters."
        if not body.strip():
            errors[body_block] = "A macro needs its text."
        elif why := variable_error(body):
            errors[body_block] = why
        if status is not None and status not in STATUSES:
            errors["then"] = "A macro can leave the status, or set Waiting, Resolved or Closed."
        if errors:
            raise InvalidMacro(errors)
        now = self._clock()
        try:
            with self._db.write() as session:
                row = Macro(name=name, body=body.strip(), status=status.value if status else None, created_by=agent, created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                return _record(row)
        except IntegrityError:
            raise InvalidMacro({"save_as": f"There is a macro named “{name}” already: choose another name."}) from None

    def delete(self, agent: str, macro_id: int) -> bool:
        if not self._tickets.is_agent(agent):
            raise PermissionDenied("delete macros for")
        with self._db.write() as session:
            row = session.get(Macro, macro_id)
            if row is None:
                return False
            session.delete(row)
            return True


def _record(row: Macro) -> MacroRecord:
    return MacroRecord(row.id, row.name, row.body, Status(row.status) if row.status else None)
