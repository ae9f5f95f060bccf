"""Where a ticket stands among others, read inside any transaction: the primary a merged
duplicate now lives in (its threads, mail and DMs follow it there), and the lines its card
shows for its links and merges."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.services.records import format_number
from db.models import Ticket, TicketLink, TicketMerge

MAX_CHAIN = 50  # merges followed at most: a chain longer than this is a bug, not a desk


class LinkKind(StrEnum):
    RELATED = "related"
    PARENT = "parent"  # from_id is the parent of to_id
    CHILD = "child"  # said from the child's side; stored as the other's PARENT link
    DUPLICATE = "duplicate"  # merge into the other

    @property
    def label(self) -> str:
        return {"related": "Related to", "parent": "Parent of", "child": "Child of", "duplicate": "Duplicate of (merge into it)"}[
            self.value
        ]


def merged_into(session: Session, ticket_id: int) -> int | None:
    """The primary this ticket was merged into (None: not merged, or unmerged since)."""
    return session.scalar(
        select(TicketMerge.primary_id).where(TicketMerge.duplicate_id == ticket_id, TicketMerge.unmerged_at.is_(None))
    )


def chain_of(session: Session, ticket_id: int) -> list[int]:
    """The ticket and the primaries its merges lead to, in order (the last one is where
    its conversation lives now)."""
    chain = [ticket_id]
    while len(chain) <= MAX_CHAIN:
        primary = merged_into(session, chain[-1])
        if primary is None or primary in chain:
            break
        chain.append(primary)
    return chain


def follow_merges(session: Session, row: Ticket | None, *, lock: bool = False) -> Ticket | None:
    """The ticket a thread, a mail or a DM of ``row`` belongs to now: ``row``, or the
    primary its merges lead to."""
    if row is None:
        return None
    last = chain_of(session, row.id)[-1]
    if last == row.id:
        return row
    return session.get(Ticket, last, with_for_update=lock or None)


def link_lines(session: Session, ticket_id: int) -> tuple[str, ...]:
    """What the card says of the ticket's links and merges: ``🔗 Related to TCK-000002``,
    ``🧬 Child of TCK-000001``, ``🔁 Duplicate of TCK-000003 (merged)``, ``🔁 Merged in: TCK-000004``."""
    lines: list[str] = []
    links = session.scalars(
        select(TicketLink).where(or_(TicketLink.from_id == ticket_id, TicketLink.to_id == ticket_id)).order_by(TicketLink.id)
    ).all()
    for link in links:
        other = format_number(link.to_id if link.from_id == ticket_id else link.from_id)
        if link.kind == LinkKind.RELATED.value:
            lines.append(f"🔗 Related to {other}")
        elif link.from_id == ticket_id:
            lines.append(f"🧬 Parent of {other}")
        else:
            lines.append(f"🧬 Child of {other}")
    primary = merged_into(session, ticket_id)
    if primary is not None:
        lines.append(f"🔁 Duplicate of {format_number(primary)} (merged: the conversation continues there)")
    merged_here = session.scalars(
        select(TicketMerge.duplicate_id)
        .where(TicketMerge.primary_id == ticket_id, TicketMerge.unmerged_at.is_(None))
        .order_by(TicketMerge.id)
    ).all()
    if merged_here:
        lines.append("🔁 Merged in: " + ", ".join(format_number(d) for d in merged_here))
    return tuple(lines)
