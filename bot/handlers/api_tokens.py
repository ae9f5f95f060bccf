"""The Admin section's API tokens: list, create (shown once, in the modal), revoke. Only
admins: the button is refused to anyone else when pressed, and again when the modal is
submitted or a token revoked."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.handlers.admin import ADMINS_ONLY, _admin_or_tell, _option, _text
from bot.services.api_tokens import ApiTokens, TokenError
from bot.views.api_tokens import (
    ADMIN_API_TOKENS,
    API_TOKEN_REVOKE,
    API_TOKENS_VIEW,
    token_shown_modal,
    tokens_modal,
)


def _tokens(deps: Deps) -> ApiTokens:
    assert deps.db is not None
    return ApiTokens(deps.db, deps.clock)


def open_tokens(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if _admin_or_tell(deps, client, body["user"]["id"]):
        client.views_open(trigger_id=body["trigger_id"], view=tokens_modal(_tokens(deps).all(), deps.settings.tz))


def revoke(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    actor = body["user"]["id"]
    if not _admin_or_tell(deps, client, actor):
        return
    tokens = _tokens(deps)
    name = str(body["actions"][0].get("value") or "")
    try:
        note = f"Revoked {tokens.revoke(actor, name).name}."
    except TokenError as err:
        note = str(err)
    view = body["view"]
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=tokens_modal(tokens.all(), deps.settings.tz, note))


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    if not deps.directory.is_admin(actor):
        ack(response_action="errors", errors={"token_name": ADMINS_ONLY})
        return
    try:
        record, token = _tokens(deps).create(actor, _text(view, "token_name"), _option(view, "token_scope") or "read")
    except TokenError as err:
        ack(response_action="errors", errors={"token_name": str(err)})
        return
    ack(response_action="update", view=token_shown_modal(record, token, deps.clock(), deps.settings.tz))


def register(app: App) -> None:
    app.action(ADMIN_API_TOKENS)(open_tokens)
    app.action(API_TOKEN_REVOKE)(revoke)
    app.view(API_TOKENS_VIEW)(submit)
