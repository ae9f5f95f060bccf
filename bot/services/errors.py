"""Domain errors the service raises; handlers turn them into messages for people."""

from __future__ import annotations

from bot.services.records import TicketRecord


class ServiceError(Exception):
    """Base class; ``str(err)`` is a sentence fit to show the person who acted."""


class TicketNotFound(ServiceError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"Ticket {ticket_id} does not exist.")
        self.ticket_id = ticket_id


class PermissionDenied(ServiceError):
    def __init__(self, action: str) -> None:
        super().__init__(f"Only support agents can {action} tickets.")
        self.action = action


class ActionNotAllowed(ServiceError):
    """The ticket's current state does not allow the action (a stale card, a double click)."""

    def __init__(self, message: str, ticket: TicketRecord) -> None:
        super().__init__(message)
        self.ticket = ticket
