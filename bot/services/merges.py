"""Linking tickets (related, parent and child) and merging a duplicate into its primary.

A merge moves the duplicate's messages and attachments to the primary in one UPDATE each
(the timeline orders them by their time), marks each with the merge that moved it, closes
the duplicate with a pointer to the primary, and tells its requester where the
conversation continues. Its threads, mail and DMs then find the primary (case_links.py).
An admin's unmerge moves back exactly what the merge moved and gives the duplicate its
status again. Every step is audited on both tickets and checked like any change: the
actor must be able to work on both, and a merge never makes a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.mail.compose import new_message_id
from bot.services.case_links import LinkKind, chain_of, merged_into
from bot.services.effects import owe_card_refresh, owe_home
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.records import format_number
from bot.services.status import Status
from bot.services.tickets import TicketService, _outside, _role, audit_event, load_ticket
from bot.views.text import is_slack_user
from db.models import Attachment, CaseMessage, Ticket, TicketLink, TicketMerge
from db.session import Database

Clock = Callable[[], datetime]


class LinkRefused(ServiceError):
    """A link or merge that cannot be made; the text says why."""


class CaseLinks:
    def __init__(self, db: Database, tickets: TicketService, clock: Clock, *, mail_from: str | None = None) -> None:
        self._db = db
        self._tickets = tickets
        self._clock = clock
        self._mail_from = mail_from

    # ---- links ---------------------------------------------------------------

    def link(self, actor: str, ticket_id: int, kind: LinkKind, other_id: int) -> str:
        """Link the ticket to ``other_id`` (a duplicate: merge it); returns what was done."""
        if kind is LinkKind.DUPLICATE:
            return self.merge(actor, ticket_id, other_id)
        now = self._clock()
        with self._db.write() as session:
            row, other = self._both(session, actor, ticket_id, other_id, "link")
            parent, child = (other, row) if kind is LinkKind.CHILD else (row, other)
            stored = LinkKind.RELATED if kind is LinkKind.RELATED else LinkKind.PARENT
            if self._linked(session, parent.id, child.id, stored):
                raise LinkRefused(
                    f"{format_number(row.id)} is already linked to {format_number(other.id)} that way. Nothing changed."
                )
            session.add(TicketLink(from_id=parent.id, to_id=child.id, kind=stored.value, created_by=actor, created_at=now))
            said = f"{kind.label.split(' (')[0].lower()} {format_number(other.id)}"
            back = {LinkKind.RELATED: "related to", LinkKind.PARENT: "child of", LinkKind.CHILD: "parent of"}[kind]
            for this, that, words in ((row, other, said), (other, row, f"{back} {format_number(row.id)}")):
                self._audit(
                    session,
                    this,
                    actor,
                    "linked",
                    kind.value,
                    format_number(that.id),
                    now,
                    f"🔗 <@{actor}> marked {format_number(this.id)} as {words}.",
                )
            return f"{format_number(row.id)} is now {said}."

    @staticmethod
    def _linked(session: Session, parent: int, child: int, kind: LinkKind) -> bool:
        pairs = [(parent, child), (child, parent)]
        return any(
            session.scalar(
                select(TicketLink.id).where(TicketLink.from_id == a, TicketLink.to_id == b, TicketLink.kind == kind.value)
            )
            for a, b in pairs
        )

    # ---- merges --------------------------------------------------------------

    def merge(self, actor: str, duplicate_id: int, primary_id: int) -> str:
        """Mark ``duplicate_id`` as a duplicate of ``primary_id`` and merge it there."""
        now = self._clock()
        with self._db.write() as session:
            dup, primary = self._both(session, actor, duplicate_id, primary_id, "merge")
            number, target = format_number(dup.id), format_number(primary.id)
            already = merged_into(session, dup.id)
            if already is not None:
                raise LinkRefused(f"{number} is already merged into {format_number(already)}. Nothing changed.")
            chain = chain_of(session, primary.id)
            if dup.id in chain:
                raise LinkRefused(
                    f"{target} is already merged into {number} (its duplicate chain leads back to it): "
                    "merging would make a cycle. Nothing changed."
                )
            if len(chain) > 1:  # the primary is itself a duplicate: the conversation lives at the chain's end
                primary = load_ticket(session, chain[-1], lock=True)
                target = format_number(primary.id)
                why = _outside(session, primary, actor)
                if why:
                    raise LinkRefused(why)
            record = TicketMerge(
                duplicate_id=dup.id, primary_id=primary.id, status_before=dup.status, merged_by=actor, merged_at=now
            )
            session.add(record)
            session.flush()
            moved = self._move(session, dup.id, primary.id, [record.id], mark=record.id)
            before = dup.status
            if before != Status.CLOSED.value:
                dup.status, dup.closed_at, dup.paused_at = Status.CLOSED.value, now, None
                session.add(audit_event(dup.id, actor, "status", before, Status.CLOSED.value, f"merged into {target}", now))
            dup.updated_at = primary.updated_at = now
            self._audit(
                session,
                dup,
                actor,
                "merged",
                number,
                target,
                now,
                f"🔁 <@{actor}> merged {number} into {target}: the conversation continues there. ({moved} messages moved)",
            )
            self._audit(
                session,
                primary,
                actor,
                "merged_in",
                number,
                target,
                now,
                f"🔁 <@{actor}> merged {number} into {target} ({moved} messages moved here).",
            )
            told = self._tell_requester(session, dup, target, now)
            session.add(audit_event(dup.id, actor, "requester_told", None, target, told, now))
            owe_home(session, dup, now)
            return f"{number} is merged into {target} ({moved} messages moved; its requester {told})."

    def unmerge(self, actor: str, duplicate_id: int) -> str:
        """Undo the duplicate's merge (admins only): what it moved goes back, its status too."""
        now = self._clock()
        with self._db.write() as session:
            if _role(session, actor) != "admin":
                raise LinkRefused("Only admins can unmerge tickets. Nothing changed.")
            dup = load_ticket(session, duplicate_id, lock=True)
            number = format_number(dup.id)
            record = session.scalars(
                select(TicketMerge).where(TicketMerge.duplicate_id == dup.id, TicketMerge.unmerged_at.is_(None))
            ).first()
            if record is None:
                raise LinkRefused(f"{number} is not merged into another ticket. Nothing changed.")
            primary = load_ticket(session, record.primary_id, lock=True)
            target = format_number(primary.id)
            # What came with it: its own messages, and those of tickets merged into it before.
            merges = self._merges_under(session, record)
            moved = self._move(session, primary.id, dup.id, merges, mark=None)
            session.execute(update(CaseMessage).where(CaseMessage.merge_id == record.id).values(merge_id=None))
            session.execute(update(Attachment).where(Attachment.merge_id == record.id).values(merge_id=None))
            record.unmerged_by, record.unmerged_at = actor, now
            if dup.status != record.status_before:
                session.add(
                    audit_event(dup.id, actor, "status", dup.status, record.status_before, f"unmerged from {target}", now)
                )
                dup.status, dup.closed_at = record.status_before, None
            dup.updated_at = primary.updated_at = now
            self._audit(
                session,
                dup,
                actor,
                "unmerged",
                number,
                target,
                now,
                f"↩️ <@{actor}> unmerged {number} from {target} ({moved} messages moved back).",
            )
            self._audit(
                session,
                primary,
                actor,
                "unmerged_out",
                number,
                target,
                now,
                f"↩️ <@{actor}> unmerged {number} from {target} ({moved} messages moved back).",
            )
            owe_home(session, dup, now)
            return f"{number} is unmerged from {target}: {moved} messages moved back, status {Status(dup.status).label}."

    @staticmethod
    def _merges_under(session: Session, record: TicketMerge) -> list[int]:
        """The merge and those into its duplicate still in force, and so on down."""
        found = [record.id]
        tickets = [record.duplicate_id]
        while tickets:
            rows = session.execute(
                select(TicketMerge.id, TicketMerge.duplicate_id).where(
                    TicketMerge.primary_id.in_(tickets), TicketMerge.unmerged_at.is_(None)
                )
            ).all()
            found += [r.id for r in rows]
            tickets = [r.duplicate_id for r in rows]
        return found

    @staticmethod
    def _move(session: Session, source: int, target: int, merges: list[int], *, mark: int | None) -> int:
        """Move messages and attachments to ``target`` in one UPDATE each: a merge
        (``mark``) moves all of ``source``'s and marks those not marked yet; an unmerge
        moves those the given merges moved, wherever they are now (the primary may have
        been merged on since). Returns how many messages moved."""
        if mark is not None:
            values = {"ticket_id": target, "merge_id": func.coalesce(CaseMessage.merge_id, mark)}
            where = [CaseMessage.ticket_id == source]
            a_values = {"ticket_id": target, "merge_id": func.coalesce(Attachment.merge_id, mark)}
            a_where = [Attachment.ticket_id == source]
        else:
            values, a_values = {"ticket_id": target}, {"ticket_id": target}
            where = [CaseMessage.merge_id.in_(merges)]
            a_where = [Attachment.merge_id.in_(merges)]
        result = session.execute(update(CaseMessage).where(*where).values(values).execution_options(synchronize_session=False))
        session.execute(update(Attachment).where(*a_where).values(a_values).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    # ---- internals -----------------------------------------------------------

    def _both(self, session: Session, actor: str, ticket_id: int, other_id: int, what: str) -> tuple[Ticket, Ticket]:
        """Both tickets, locked in id order, once the actor may work on both."""
        if not self._tickets.is_agent(actor):
            raise PermissionDenied(what)
        if ticket_id == other_id:
            raise LinkRefused(f"A ticket cannot be {'merged into' if what == 'merge' else 'linked to'} itself. Nothing changed.")
        rows = {i: load_ticket(session, i, lock=True) for i in sorted((ticket_id, other_id))}
        for row in rows.values():
            why = _outside(session, row, actor)
            if why:
                raise LinkRefused(why)
        return rows[ticket_id], rows[other_id]

    def _audit(self, session: Session, row: Ticket, actor: str, kind: str, old: str, new: str, now: datetime, line: str) -> None:
        """The audit event, the card redrawn and ``line`` in its thread."""
        event = audit_event(row.id, actor, kind, old, new, None, now)
        session.add(event)
        session.flush()
        owe_card_refresh(session, row.id, now)
        channel = row.card_channel or self._tickets.channels.support
        enqueue(session, PostKind.CHANGE_LINE, now, ticket_id=row.id, channel=channel, event_id=event.id, text=line)

    def _tell_requester(self, session: Session, dup: Ticket, target: str, now: datetime) -> str:
        """The duplicate's requester told where the conversation continues; returns how."""
        number = format_number(dup.id)
        reporter = dup.reporter_id
        text = f"Your request {number} is the same as {target}, so we merged them: the conversation continues in {target}. Replies here still reach us."
        if is_slack_user(reporter):
            if dup.origin_channel and dup.origin_ts:
                enqueue(
                    session, PostKind.POST, now, ticket_id=dup.id, channel=dup.origin_channel, thread_ts=dup.origin_ts, text=text
                )
                return "was told in the thread the case came from"
            enqueue(session, PostKind.POST, now, ticket_id=dup.id, channel=reporter, user_id=reporter, text=text)
            return "was told by DM"
        if "@" in reporter and self._mail_from:
            queue_mail(
                session,
                now,
                ticket_id=dup.id,
                message_id=new_message_id(self._mail_from),
                to_addr=reporter,
                subject=f"[{number}] merged into {target}",
                body=text + "\n",
                in_reply_to=None,
                references=None,
                automatic=False,
            )
            return "was told by mail"
        return "could not be told: no way to reach them"
