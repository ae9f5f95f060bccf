"""Forms per issue type: the extra fields admins give an issue type's new-ticket form, the
checking of what a person (or the API) entered in them, and the values tickets keep.

A field has a key (what ``field:value`` filters and the API name it by), a label, a kind,
a required flag, help text and, for the selects, its options. Values are stored typed,
one row per value, with the label and kind the field had when the ticket was filed:
changing or removing a field never changes how an old ticket reads.
"""

from __future__ import annotations

import json
import re
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.errors import ServiceError
from bot.services.field_values import FieldValue
from bot.services.tickets import Clock, utcnow
from db.models import DeskEvent, FormField
from db.session import Database

KINDS = {
    "short_text": "Short text",
    "long_text": "Long text",
    "number": "Number",
    "date": "Date",
    "select": "Single select",
    "multi_select": "Multi select",
    "user": "User",
}
SELECTS = ("select", "multi_select")
FIELDS_PER_TYPE = 20  # the new-ticket modal holds 100 blocks; its own are 6
OPTIONS_LIMIT = 100  # a static_select's
OPTION_LIMIT = 75  # an option's text
LABEL_LIMIT = 100
HELP_LIMIT = 150
KEY_LIMIT = 30
TEXT_LIMIT = {"short_text": 150, "long_text": 3000}
BLOCK_PREFIX = "field:"  # the block id of a field's input in the new-ticket modal
_KEY = re.compile(r"[^a-z0-9]+")
_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class InvalidForm(ServiceError):
    """Inline errors by the admin modal's block id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotAdmin(ServiceError):
    def __init__(self) -> None:
        super().__init__("Only desk admins can change the forms of issue types.")


@dataclass(frozen=True)
class FieldSpec:
    id: int
    issue_type: str
    key: str
    label: str
    kind: str
    required: bool
    help: str
    options: tuple[str, ...] = ()

    @property
    def block_id(self) -> str:
        return f"{BLOCK_PREFIX}{self.key}"

    @classmethod
    def of(cls, row: FormField) -> FieldSpec:
        return cls(row.id, row.issue_type, row.key, row.label, row.kind, row.required, row.help, tuple(json.loads(row.options or "[]")))


@dataclass
class Checked:
    values: list[FieldValue] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # by field key


def key_for(label: str) -> str:
    """``Customer region`` → ``customer_region``."""
    return _KEY.sub("_", label.casefold()).strip("_")[:KEY_LIMIT].strip("_")


def _number(text: str) -> float | None:
    try:
        number = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _shown_number(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def check(fields: Sequence[FieldSpec], entered: Mapping[str, Any]) -> Checked:
    """``entered``: field key → what was given (a string; a list for a multi select; a number
    from the API). Unknown keys are not looked at here (the API refuses them itself)."""
    out = Checked()
    for spec in fields:
        raw = entered.get(spec.key)
        texts = _texts(raw)
        if not texts:
            if spec.required:
                out.errors[spec.key] = f"{spec.label} is required."
            continue
        error, value = _one(spec, texts)
        if error:
            out.errors[spec.key] = error
        elif value is not None:
            out.values.append(value)
    return out


def _texts(raw: Any) -> list[str]:
    if raw is None or isinstance(raw, bool):
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    texts = []
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            texts.append(_shown_number(float(item)))
        elif isinstance(item, str) and item.strip():
            texts.append(item.strip())
    return texts


def _one(spec: FieldSpec, texts: list[str]) -> tuple[str | None, FieldValue | None]:
    if spec.kind != "multi_select" and len(texts) > 1:
        return f"{spec.label} takes one value.", None
    text = texts[0]
    if spec.kind in TEXT_LIMIT:
        if len(text) > TEXT_LIMIT[spec.kind]:
            return f"{spec.label} is at most {TEXT_LIMIT[spec.kind]} characters.", None
        return None, FieldValue(spec.key, spec.label, spec.kind, (text,))
    if spec.kind == "number":
        number = _number(text)
        if number is None:
            return f"{spec.label} must be a number, such as 42 or 3.5.", None
        return None, FieldValue(spec.key, spec.label, spec.kind, (_shown_number(number),), number=number)
    if spec.kind == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return f"{spec.label} must be a date written as 2026-03-31.", None
        return None, FieldValue(spec.key, spec.label, spec.kind, (day.isoformat(),), day=day)
    if spec.kind in SELECTS:
        unknown = [t for t in texts if t not in spec.options]
        if unknown:
            return f"{spec.label}: choose from its options ({', '.join(spec.options[:10])}).", None
        return None, FieldValue(spec.key, spec.label, spec.kind, tuple(dict.fromkeys(texts)))
    if spec.kind == "user":
        if not _USER.match(text):
            return f"{spec.label} must be a Slack user.", None
        return None, FieldValue(spec.key, spec.label, spec.kind, (text,))
    return f"{spec.label} has an unknown kind.", None


def live_fields(session: Session, issue_type: str) -> list[FieldSpec]:
    """The type's fields as its form shows them now, in order."""
    rows = session.scalars(
        select(FormField)
        .where(FormField.issue_type == issue_type, FormField.removed_at.is_(None))
        .order_by(FormField.position, FormField.id)
    )
    return [FieldSpec.of(r) for r in rows]


class KeptFields:
    """The types' live fields, kept per process and database for KEPT_SECONDS: every case the
    API opens checks its fields, and reading them was a transaction of its own each time.
    A change made through :class:`Forms` in this process forgets them once it commits; one
    made by another process (a second replica, the CLI) is seen within KEPT_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, tuple[FieldSpec, ...]]]] = weakref.WeakKeyDictionary()
        self._generation = 0  # moved by each forget: a read begun before it keeps nothing

    def fields(self, db: Database, issue_type: str) -> list[FieldSpec]:
        with self._lock:
            kept = self._kept.get(db, {}).get(issue_type)
            generation = self._generation
        # The monotonic clock may start near zero (a machine just booted): a type never read
        # is read, however young the clock.
        if kept is not None and time.monotonic() - kept[0] <= KEPT_SECONDS:
            return list(kept[1])
        taken = time.monotonic()
        with db.read() as session:
            specs = tuple(live_fields(session, issue_type))
        with self._lock:
            if generation == self._generation:
                self._kept.setdefault(db, {})[issue_type] = (taken, specs)
        return list(specs)

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()
            self._generation += 1


KEPT_SECONDS = 5.0
KEPT = KeptFields()


def parse_options(text: str) -> tuple[str, ...]:
    """One option a line, blanks dropped, duplicates once."""
    return tuple(dict.fromkeys(" ".join(line.split()) for line in text.splitlines() if line.strip()))


class Forms:
    """The forms: read by everyone filing a ticket, changed by admins (audited)."""

    def __init__(self, db: Database, is_admin: Any, clock: Clock = utcnow) -> None:
        self._db = db
        self._is_admin = is_admin
        self._clock = clock

    def fields_for(self, issue_type: str) -> list[FieldSpec]:
        return KEPT.fields(self._db, issue_type)

    def field_keys(self) -> list[str]:
        """Every key a form has had (removed fields too: old tickets keep their values)."""
        with self._db.read() as session:
            return list(session.scalars(select(FormField.key).distinct().order_by(FormField.key)))

    def field(self, field_id: int) -> FieldSpec | None:
        with self._db.read() as session:
            row = session.get(FormField, field_id)
            return FieldSpec.of(row) if row is not None and row.removed_at is None else None

    def add(
        self, actor: str, issue_type: str, label: str, kind: str, *, required: bool = False, help_text: str = "",
        options: Sequence[str] = (),
    ) -> FieldSpec:
        if not self._is_admin(actor):
            raise NotAdmin()
        label = " ".join(label.split())
        help_text = " ".join(help_text.split())
        key = key_for(label)
        errors: dict[str, str] = {}
        if not key:
            errors["label"] = "Give the field a label with letters or digits."
        elif len(label) > LABEL_LIMIT:
            errors["label"] = f"A label is at most {LABEL_LIMIT} characters."
        if kind not in KINDS:
            errors["kind"] = "Choose the kind of field."
        if len(help_text) > HELP_LIMIT:
            errors["help"] = f"Help text is at most {HELP_LIMIT} characters."
        if kind in SELECTS:
            if not options:
                errors["options"] = "A select needs its options, one a line."
            elif len(options) > OPTIONS_LIMIT:
                errors["options"] = f"A select holds at most {OPTIONS_LIMIT} options."
            elif any(len(o) > OPTION_LIMIT for o in options):
                errors["options"] = f"Each option is at most {OPTION_LIMIT} characters (Slack's limit)."
        else:
            options = ()
        if errors:
            raise InvalidForm(errors)
        now = self._clock()
        with self._db.write() as session:
            live = session.scalars(
                select(FormField).where(FormField.issue_type == issue_type, FormField.removed_at.is_(None))
            ).all()
            if len(live) >= FIELDS_PER_TYPE:
                raise InvalidForm({"label": f"An issue type has at most {FIELDS_PER_TYPE} fields."})
            if any(r.key == key for r in live):
                raise InvalidForm({"label": f"{issue_type} has a field named {key} already."})
            last = session.scalar(select(func.max(FormField.position)).where(FormField.issue_type == issue_type))
            row = FormField(
                issue_type=issue_type, key=key, label=label, kind=kind, required=required, help=help_text,
                options=json.dumps(list(options)), position=(last or 0) + 1, created_at=now,
            )
            session.add(row)
            session.add(DeskEvent(actor_id=actor[:32], kind="form_field_added", subject=issue_type[:320], to_value=f"{key} ({kind})", created_at=now))
            session.flush()
            spec = FieldSpec.of(row)
        KEPT.forget()
        return spec

    def remove(self, actor: str, field_id: int) -> None:
        """Off the form from now on; tickets filed with it keep their values."""
        if not self._is_admin(actor):
            raise NotAdmin()
        now = self._clock()
        with self._db.write() as session:
            row = session.get(FormField, field_id)
            if row is None or row.removed_at is not None:
                return
            row.removed_at = now
            session.add(DeskEvent(actor_id=actor[:32], kind="form_field_removed", subject=row.issue_type[:320], from_value=row.key, created_at=now))
        KEPT.forget()

    def move(self, actor: str, field_id: int, step: int) -> None:
        """Up (-1) or down (+1) one place among the type's fields."""
        if not self._is_admin(actor):
            raise NotAdmin()
        with self._db.write() as session:
            row = session.get(FormField, field_id)
            if row is None or row.removed_at is not None:
                return
            live = list(session.scalars(
                select(FormField)
                .where(FormField.issue_type == row.issue_type, FormField.removed_at.is_(None))
                .order_by(FormField.position, FormField.id)
            ))
            at = live.index(row)
            other = at + step
            if not 0 <= other < len(live):
                return
            live[at], live[other] = live[other], live[at]
            for position, each in enumerate(live, start=1):
                each.position = position
            session.add(DeskEvent(
                actor_id=actor[:32], kind="form_field_moved", subject=row.issue_type[:320], to_value=f"{row.key} → {other + 1}",
                created_at=self._clock(),
            ))
        KEPT.forget()
