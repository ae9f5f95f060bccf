"""/ticket-macros: agents list, add and delete the canned replies used in the Reply modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.services.errors import PermissionDenied
from bot.services.macros import InvalidMacro
from bot.services.status import Status
from bot.views.modals import MACRO_DELETE, MACROS_VIEW, VALUE, macros_modal

COMMAND = "/ticket-macros"


def _view(deps: Deps, note: str = "") -> dict[str, Any]:
    listed = [(m.id, m.name, m.body, m.status.label if m.status else None) for m in deps.macros.listed()]
    return macros_modal(listed, note)


def ticket_macros(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if not deps.tickets.is_agent(body["user_id"]):
        respond(text=str(PermissionDenied("manage canned replies for")), response_type="ephemeral")
        return
    client.views_open(trigger_id=body["trigger_id"], view=_view(deps))


def delete_macro(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    try:
        deps.macros.delete(body["user"]["id"], int(body["actions"][0]["value"]))
    except PermissionDenied as err:
        note = str(err)
    else:
        note = "Deleted."
    view = body["view"]
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=_view(deps, note))


def _input(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return state


def save_macro(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    deps = deps_of(context)
    name = str(_input(view, "save_as").get("value") or "")
    text = str(_input(view, "body").get("value") or "")
    if not name.strip() and not text.strip():
        ack()  # nothing to add: Save closes it
        return
    then = str((_input(view, "then").get("selected_option") or {}).get("value") or "")
    try:
        deps.macros.save(body["user"]["id"], name, text, Status(then) if then else None)
    except InvalidMacro as err:
        ack(response_action="errors", errors=err.errors)
        return
    except PermissionDenied as err:
        ack(response_action="errors", errors={"save_as": str(err)})
        return
    ack(response_action="update", view=_view(deps, f"Saved “{' '.join(name.split())}”."))


COMMANDS = {COMMAND: ticket_macros}


def register(app: App) -> None:
    app.command(COMMAND)(ticket_macros)
    app.action(MACRO_DELETE)(delete_macro)
    app.view(MACROS_VIEW)(save_macro)
