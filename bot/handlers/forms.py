"""Forms per issue type: /ticket-forms (admins add, order and remove a type's fields), and
the new-ticket modal redrawn with the chosen type's fields when the type is picked."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.services.forms import BLOCK_PREFIX, InvalidForm, NotAdmin, parse_options
from bot.views.forms import FORM_FIELD_CHANGE, FORM_TYPE_PICK, FORMS_VIEW, VALUE, forms_modal, shown_fields, with_fields

log = logging.getLogger(__name__)
COMMAND = "/ticket-forms"


def _view(deps: Deps, issue_type: str, note: str = "", version: int = 0) -> dict[str, Any]:
    return forms_modal(deps.settings.issue_types, issue_type, deps.forms.fields_for(issue_type), note, version)


def ticket_forms(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if not deps.directory.is_admin(body["user_id"]):
        respond(text=str(NotAdmin()), response_type="ephemeral")
        return
    asked = " ".join(str(body.get("text") or "").split())
    types = deps.settings.issue_types
    issue_type = next((t for t in types if t.casefold() == asked.casefold()), types[0] if types else "")
    client.views_open(trigger_id=body["trigger_id"], view=_view(deps, issue_type))


def _shown_type(view: dict[str, Any]) -> str:
    return str(json.loads(view.get("private_metadata") or "{}").get("issue_type") or "")


def _version(view: dict[str, Any]) -> int:
    return int(json.loads(view.get("private_metadata") or "{}").get("version") or 0)


def pick_type(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    chosen = str((body["actions"][0].get("selected_option") or {}).get("value") or "")
    if chosen not in deps.settings.issue_types:
        return
    view = body["view"]
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=_view(deps, chosen, version=_version(view) + 1))


def change_field(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    what, _, field_id = str((body["actions"][0].get("selected_option") or {}).get("value") or "").partition(":")
    view = body["view"]
    issue_type = _shown_type(view)
    note = ""
    if field_id.isdigit():
        actor = body["user"]["id"]
        spec = deps.forms.field(int(field_id))
        try:
            if spec is None:
                note = "That field was removed already."
            elif what == "remove":
                deps.forms.remove(actor, spec.id)
                note = f"Removed {spec.label}: tickets filed with it keep its value."
            elif what in ("up", "down"):
                deps.forms.move(actor, spec.id, -1 if what == "up" else 1)
        except NotAdmin as err:
            note = str(err)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=_view(deps, issue_type, note, _version(view)))


def _input(view: dict[str, Any], name: str) -> dict[str, Any]:
    """The add form's input ``name`` (its block id carries the view's version)."""
    block_id = f"{name}.{_version(view)}"
    state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return state


def _picked(view: dict[str, Any], block_id: str) -> str:
    return str((_input(view, block_id).get("selected_option") or {}).get("value") or "")


def add_field(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    deps = deps_of(context)
    issue_type = _shown_type(view)
    label = str(_input(view, "label").get("value") or "")
    if not label.strip():
        ack()  # nothing to add: the button closes it
        return
    try:
        spec = deps.forms.add(
            body["user"]["id"], issue_type, label, _picked(view, "kind"),
            required=_picked(view, "required") == "yes",
            help_text=str(_input(view, "help").get("value") or ""),
            options=parse_options(str(_input(view, "options").get("value") or "")),
        )
    except InvalidForm as err:
        version = _version(view)
        ack(response_action="errors", errors={f"{name}.{version}": error for name, error in err.errors.items()})
        return
    except NotAdmin as err:
        ack(response_action="errors", errors={f"label.{_version(view)}": str(err)})
        return
    ack(response_action="update", view=_view(deps, issue_type, f"Added {spec.label} (key {spec.key}).", _version(view) + 1))


def redraw_new_ticket(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The issue type was picked: show its fields (only when they differ from those shown,
    so a type without fields costs no update)."""
    ack()
    deps = deps_of(context)
    view = body["view"]
    chosen = str((body["actions"][0].get("selected_option") or {}).get("value") or "")
    fields = deps.forms.fields_for(chosen) if chosen in deps.settings.issue_types else []
    if [(f.block_id, f.label) for f in fields] == shown_fields(view):
        return
    try:
        # The hash makes Slack refuse an update over a newer one (a second pick in flight).
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=with_fields(view, fields))
    except SlackApiError as err:
        if err.response.get("error") != "hash_conflict":
            raise
        log.info("the new-ticket form changed meanwhile: this redraw is dropped")


COMMANDS = {COMMAND: ticket_forms}


def register(app: App) -> None:
    app.command(COMMAND)(ticket_forms)
    app.action(FORM_TYPE_PICK)(pick_type)
    app.action(FORM_FIELD_CHANGE)(change_field)
    app.view(FORMS_VIEW)(add_field)
    app.action({"block_id": "issue_type", "action_id": VALUE})(redraw_new_ticket)


def entered(view: dict[str, Any]) -> dict[str, Any]:
    """Field key → what the new-ticket modal's field inputs hold, as each kind gives it."""
    out: dict[str, Any] = {}
    for block_id, by_action in (view.get("state", {}).get("values") or {}).items():
        if not block_id.startswith(BLOCK_PREFIX):
            continue
        state = by_action.get(VALUE) or {}
        if "selected_options" in state:
            raw: Any = [str(o.get("value") or "") for o in state.get("selected_options") or []]
        elif "selected_option" in state:
            raw = (state.get("selected_option") or {}).get("value")
        else:
            raw = state.get("selected_date") or state.get("selected_user") or state.get("value")
        out[block_id[len(BLOCK_PREFIX):]] = raw
    return out
