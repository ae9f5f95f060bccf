"""/api/v1/cases/{number}/notes (internal, seen by agents only) and /replies (to the
requester: by email when they are an address, else in Slack), both as the token."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from bot.api.calls import Call
from bot.api.cases import _number
from bot.api.fields import Fields
from bot.api.problems import Problem
from bot.services.case_json import iso
from bot.services.records import format_number
from bot.services.tickets import MAX_DETAILS

FIELDS = ("body",)


def add_note(call: Call) -> Response:
    ticket_id = _number(call)
    body = _body(call)
    call.ctx.tickets.comment(ticket_id, call.token.actor, body)
    return JSONResponse({"case": format_number(ticket_id), "kind": "note", "author": call.token.actor, "body": body}, status_code=201)


def add_reply(call: Call) -> Response:
    ticket_id = _number(call)
    body = _body(call)
    ticket = call.ctx.tickets.get(ticket_id)
    mailer = call.ctx.mailer
    if ticket.answered_by_email and mailer is None:
        raise Problem(409, "no-mail", f"{ticket.number}'s requester is an address, and this desk sends no mail (SMTP_HOST is not set).")
    # The same public reply as the card's Reply button: in the requester's thread or DM, or by mail.
    message = call.ctx.replies.reply(ticket_id, call.token.actor, body, from_addr=mailer.smtp.from_addr if mailer else None).message
    assert message is not None  # None only for a redelivered card-thread message
    if ticket.answered_by_email and mailer is not None:
        mailer.send_due()  # now, as an agent's reply from Slack is; a refusal is retried by the email-poll job
    return JSONResponse(
        {"case": ticket.number, "kind": "reply", "id": message.id, "via": message.via, "author": message.author_id,
         "body": message.body, "created_at": iso(message.created_at)},
        status_code=201,
    )


def _body(call: Call) -> str:
    f = Fields(call.json(), FIELDS)
    body = f.text("body", limit=MAX_DETAILS, required=True)
    f.check()
    assert body
    return body
