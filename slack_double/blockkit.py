"""Block Kit limits as Slack enforces them; each check returns a list of error strings."""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
HEADER_TEXT = 150
VIEW_TITLE = 24
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL = 3000
ID_LENGTH = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
PRIVATE_METADATA = 3000
LABEL = 2000
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
KNOWN_BLOCKS = {"section", "header", "divider", "context", "actions", "input", "image", "rich_text", "file", "video"}


def _text_obj(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: must be a text object of type plain_text or mrkdwn"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}.text: must be more than 0 characters"]
    if len(text) > limit:
        return [f"{where}.text: must be less than {limit + 1} characters"]
    return []


def _element(el: Any, where: str) -> list[str]:
    if not isinstance(el, dict) or "type" not in el:
        return [f"{where}: missing type"]
    errors: list[str] = []
    if len(str(el.get("action_id", ""))) > ID_LENGTH:
        errors.append(f"{where}.action_id: must be less than {ID_LENGTH + 1} characters")
    kind = el["type"]
    if kind == "button":
        errors += _text_obj(el.get("text"), f"{where}.text", BUTTON_TEXT, plain_only=True)
        if len(str(el.get("value", ""))) > BUTTON_VALUE:
            errors.append(f"{where}.value: must be less than {BUTTON_VALUE + 1} characters")
        if len(str(el.get("url", ""))) > URL:
            errors.append(f"{where}.url: must be less than {URL + 1} characters")
    elif kind in ("static_select", "multi_static_select"):
        options = el.get("options") or []
        if not 1 <= len(options) <= OPTIONS:
            errors.append(f"{where}.options: must have 1 to {OPTIONS} items")
        for i, opt in enumerate(options):
            errors += _text_obj(opt.get("text"), f"{where}.options[{i}].text", OPTION_TEXT, plain_only=True)
            if len(str(opt.get("value", ""))) > OPTION_VALUE:
                errors.append(f"{where}.options[{i}].value: must be less than {OPTION_VALUE + 1} characters")
    elif kind == "plain_text_input":
        max_length = el.get("max_length")
        if max_length is not None and not 1 <= int(max_length) <= 3000:
            errors.append(f"{where}.max_length: must be between 1 and 3000")
    elif kind == "file_input":
        max_files = el.get("max_files")
        if max_files is not None and not 1 <= int(max_files) <= 10:
            errors.append(f"{where}.max_files: must be between 1 and 10")
    return errors


def _block(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
        return [f"{where}.type: unknown or missing block type"]
    errors: list[str] = []
    if len(str(block.get("block_id", ""))) > ID_LENGTH:
        errors.append(f"{where}.block_id: must be less than {ID_LENGTH + 1} characters")
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"{where}: must have text or fields")
        if "text" in block:
            errors += _text_obj(block["text"], f"{where}.text", SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > FIELDS:
            errors.append(f"{where}.fields: must have at most {FIELDS} items")
        for i, f in enumerate(fields):
            errors += _text_obj(f, f"{where}.fields[{i}]", FIELD_TEXT)
        if "accessory" in block:
            errors += _element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        errors += _text_obj(block.get("text"), f"{where}.text", HEADER_TEXT, plain_only=True)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
            errors.append(f"{where}.elements: must have 1 to {ACTIONS_ELEMENTS} items")
        for i, el in enumerate(elements):
            errors += _element(el, f"{where}.elements[{i}]")
    elif kind == "context":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
            errors.append(f"{where}.elements: must have 1 to {CONTEXT_ELEMENTS} items")
        for i, el in enumerate(elements):
            if el.get("type") in ("plain_text", "mrkdwn"):
                errors += _text_obj(el, f"{where}.elements[{i}]", SECTION_TEXT)
    elif kind == "input":
        errors += _text_obj(block.get("label"), f"{where}.label", LABEL, plain_only=True)
        if "hint" in block:
            errors += _text_obj(block["hint"], f"{where}.hint", LABEL, plain_only=True)
        if "element" not in block:
            errors.append(f"{where}.element: required")
        else:
            errors += _element(block["element"], f"{where}.element")
    return errors


def _blocks(blocks: Any, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks: must be a list"]
    errors = [f"blocks: must have at most {limit} items"] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        errors += _block(block, f"blocks[{i}]")
    return errors


def message_errors(blocks: Any) -> list[str]:
    return [] if blocks is None else _blocks(blocks, MESSAGE_BLOCKS)


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["view.type: must be modal or home"]
    errors = _blocks(view.get("blocks", []), VIEW_BLOCKS)
    if len(str(view.get("private_metadata", ""))) > PRIVATE_METADATA:
        errors.append(f"view.private_metadata: must be less than {PRIVATE_METADATA + 1} characters")
    if len(str(view.get("callback_id", ""))) > ID_LENGTH:
        errors.append(f"view.callback_id: must be less than {ID_LENGTH + 1} characters")
    if view["type"] == "modal":
        if "title" not in view:
            errors.append("view.title: required")
        for key in ("title", "submit", "close"):
            if key in view:
                errors += _text_obj(view[key], f"view.{key}", VIEW_TITLE, plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", []))
        if has_input and "submit" not in view:
            errors.append("view.submit: required when the view has input blocks")
    return errors
