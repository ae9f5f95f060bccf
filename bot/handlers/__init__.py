"""Listeners: thin adapters that ack, parse the payload, call the service and render."""

from __future__ import annotations

from slack_bolt import App

from bot.handlers import (
    actions,
    admin,
    api_tokens,
    bulk_actions,
    commands,
    customer_channels,
    email_reply,
    events,
    forms,
    links,
    macros,
    message_tickets,
    messages,
    outsiders,
    public_reply,
    summary,
    survey,
    ticket_lists,
    timeline,
    views,
)


def register(app: App) -> None:
    app.use(outsiders.refuse_outsiders)  # before every listener: another organisation's people act as customers only
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    messages.register(app)
    timeline.register(app)
    ticket_lists.register(app)
    summary.register(app)
    email_reply.register(app)
    admin.register(app)
    api_tokens.register(app)
    message_tickets.register(app)
    public_reply.register(app)
    macros.register(app)
    links.register(app)
    bulk_actions.register(app)
    forms.register(app)
    survey.register(app)
    customer_channels.register(app)
