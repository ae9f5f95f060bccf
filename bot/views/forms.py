"""Forms per issue type in Block Kit: a type's extra fields as inputs of the new-ticket
modal, their values on the card, and /ticket-forms, where admins add, order and remove them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.services.field_values import FieldValue
from bot.services.forms import BLOCK_PREFIX, KINDS, TEXT_LIMIT, FieldSpec
from bot.views.text import escape, escaped_within, plain_within

VALUE = "value"  # the action_id of every input element (as in bot/views/modals.py)
FORMS_VIEW = "ticket_forms"  # /ticket-forms: one issue type's fields, and a field to add
FORM_TYPE_PICK = "ticket_forms_type"  # the issue type shown
FORM_FIELD_CHANGE = "ticket_forms_change"  # move a field up or down, or remove it
CARD_VALUE_LIMIT = 300  # a value on the card; the rest is in the API and the timeline


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(plain_within(text, 75)), "value": value[:150]}


def _element(spec: FieldSpec) -> dict[str, Any]:
    if spec.kind in TEXT_LIMIT:
        return {
            "type": "plain_text_input", "action_id": VALUE, "max_length": TEXT_LIMIT[spec.kind],
            "multiline": spec.kind == "long_text",
        }
    if spec.kind == "number":
        return {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True}
    if spec.kind == "date":
        return {"type": "datepicker", "action_id": VALUE}
    if spec.kind == "user":
        return {"type": "users_select", "action_id": VALUE}
    kind = "static_select" if spec.kind == "select" else "multi_static_select"
    return {"type": kind, "action_id": VALUE, "options": [_option(o, o) for o in spec.options[:100]]}


def field_blocks(fields: Sequence[FieldSpec]) -> list[dict[str, Any]]:
    """The inputs of a type's fields, in the form's order."""
    blocks = []
    for spec in fields:
        block: dict[str, Any] = {
            "type": "input", "block_id": spec.block_id, "label": _plain(plain_within(spec.label, 2000)),
            "optional": not spec.required, "element": _element(spec),
        }
        if spec.help:
            block["hint"] = _plain(spec.help)
        blocks.append(block)
    return blocks


def is_field_block(block: dict[str, Any]) -> bool:
    return str(block.get("block_id", "")).startswith(BLOCK_PREFIX)


def with_fields(view: dict[str, Any], fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """The new-ticket modal as shown (``view`` from a payload), with ``fields`` in place of
    the fields it had, just after its issue type; what else it holds is kept as it is."""
    blocks = [b for b in view.get("blocks", []) if not is_field_block(b)]
    at = next((i + 1 for i, b in enumerate(blocks) if b.get("block_id") == "issue_type"), len(blocks))
    blocks[at:at] = field_blocks(fields)
    kept = {k: view[k] for k in ("type", "callback_id", "title", "submit", "close", "private_metadata", "external_id") if view.get(k)}
    return {**kept, "blocks": blocks}


def shown_fields(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(block id, label) of the fields a new-ticket modal shows."""
    return [(b["block_id"], b["label"]["text"]) for b in view.get("blocks", []) if is_field_block(b)]


def card_lines(values: Sequence[FieldValue]) -> str:
    """``*Region:* EMEA`` a line, with the labels the ticket was filed with."""
    lines = []
    for v in values:
        shown = ", ".join(f"<@{t}>" for t in v.texts) if v.kind == "user" else escaped_within(v.shown(), CARD_VALUE_LIMIT)
        lines.append(f"*{escape(v.label)}:* {shown}")
    return "\n".join(lines)


def forms_modal(
    issue_types: Sequence[str], issue_type: str, fields: Sequence[FieldSpec], note: str = "", version: int = 0
) -> dict[str, Any]:
    """One issue type's fields, in order, with a menu to move or remove each, and a form to
    add one at the end. The type shown and ``version`` ride in the metadata to the
    submission: the add form's block ids carry the version, so that a redraw after an
    addition shows it empty (Slack keeps what inputs of the same id hold)."""
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escaped_within(note, 2000)}]})
    blocks.append({
        "type": "actions", "block_id": "form_type",
        "elements": [{
            "type": "static_select", "action_id": FORM_TYPE_PICK, "placeholder": _plain("Issue type"),
            "options": [_option(t, t) for t in issue_types[:100]],
            **({"initial_option": _option(issue_type, issue_type)} if issue_type in issue_types else {}),
        }],
    })
    lines = [
        f"{i}. *{escape(f.label)}* · `{f.key}` · {KINDS[f.kind]}{' · required' if f.required else ''}"
        + (f"\n      {escape(', '.join(f.options))[:300]}" if f.options else "")
        + (f"\n      _{escape(f.help)}_" if f.help else "")
        for i, f in enumerate(fields, start=1)
    ]
    text = "\n".join(lines) if lines else f"{escape(issue_type)} has no extra fields: its form is the usual one."
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    changes = []
    for f in fields:
        changes += [_option(f"↑ Move up: {f.label}", f"up:{f.id}"), _option(f"↓ Move down: {f.label}", f"down:{f.id}"),
                    _option(f"✕ Remove: {f.label}", f"remove:{f.id}")]
    if changes:
        blocks.append({
            "type": "actions", "block_id": "form_change",
            "elements": [{"type": "static_select", "action_id": FORM_FIELD_CHANGE, "placeholder": _plain("Change a field…"),
                          "options": changes[:100]}],
        })
    kinds = [_option(label, kind) for kind, label in KINDS.items()]
    blocks += [
        {"type": "divider"},
        {"type": "input", "block_id": f"label.{version}", "optional": True, "label": _plain("New field's label"),
         "hint": _plain("Its key (for /system-tickets key:value and the API) is made from it: Customer region → customer_region."),
         "element": {"type": "plain_text_input", "action_id": VALUE, "max_length": 100}},
        {"type": "input", "block_id": f"kind.{version}", "optional": True, "label": _plain("Kind"),
         "element": {"type": "static_select", "action_id": VALUE, "options": kinds}},
        {"type": "input", "block_id": f"required.{version}", "optional": True, "label": _plain("Required"),
         "element": {"type": "static_select", "action_id": VALUE, "options": [_option("Required", "yes"), _option("Optional", "no")]}},
        {"type": "input", "block_id": f"help.{version}", "optional": True, "label": _plain("Help text"),
         "element": {"type": "plain_text_input", "action_id": VALUE, "max_length": 150}},
        {"type": "input", "block_id": f"options.{version}", "optional": True, "label": _plain("Options (selects)"),
         "hint": _plain("One a line, up to 100, each at most 75 characters."),
         "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True, "max_length": 3000}},
    ]
    return {
        "type": "modal",
        "callback_id": FORMS_VIEW,
        "title": _plain("Ticket forms"),
        "submit": _plain("Add field"),
        "close": _plain("Close"),
        "private_metadata": json.dumps({"issue_type": issue_type, "version": version}),
        "blocks": blocks,
    }
