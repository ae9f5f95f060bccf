"""The CLI of the REST API's tokens and the outgoing webhooks (``python -m bot api-token …``,
``python -m bot webhooks …``): they need only the database, and act as ``cli`` in the
desk's audit trail."""

from __future__ import annotations

import argparse
import sys

from bot.services.api_tokens import SCOPES, ApiTokens, TokenError
from bot.services.webhooks import EVENTS, WebhookError, Webhooks
from db.session import Database

ACTOR = "cli"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = sub.add_parser("api-token", help="the REST API's bearer tokens")
    tokens_sub = tokens.add_subparsers(dest="token_command", required=True)
    create = tokens_sub.add_parser("create", help="create a token and print it (shown this once)")
    create.add_argument("name")
    create.add_argument("--scope", choices=SCOPES, default="read")
    tokens_sub.add_parser("list", help="list the tokens (never the tokens themselves)")
    revoke = tokens_sub.add_parser("revoke", help="revoke a token: its calls are refused from now on")
    revoke.add_argument("name")

    hooks = sub.add_parser("webhooks", help="outgoing webhooks and their deliveries")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True)
    add = hooks_sub.add_parser("add", help="register a URL; prints its signing secret")
    add.add_argument("url")
    add.add_argument("--events", default=",".join(EVENTS), help=f"comma-separated, of: {', '.join(EVENTS)} (default: all)")
    add.add_argument("--secret", help="the signing secret (default: a new random one)")
    add.add_argument("--allow-private", action="store_true", help="allow a loopback or private address (e.g. a service on this host)")
    hooks_sub.add_parser("list", help="list the webhooks")
    remove = hooks_sub.add_parser("remove", help="stop sending to a webhook")
    remove.add_argument("id", type=int)
    deliveries = hooks_sub.add_parser("deliveries", help="the newest deliveries")
    deliveries.add_argument("--webhook", type=int)
    deliveries.add_argument("--state", choices=("pending", "sent", "dead"))
    deliveries.add_argument("--limit", type=int, default=50)
    replay = hooks_sub.add_parser("replay", help="post deliveries again (same event id)")
    replay.add_argument("ids", type=int, nargs="*")
    replay.add_argument("--dead", action="store_true", help="every dead delivery")


def api_token(db: Database, args: argparse.Namespace) -> int:
    tokens = ApiTokens(db)
    try:
        if args.token_command == "create":
            record, token = tokens.create(ACTOR, args.name, args.scope)
            print(f"created {record.name} ({record.scope}); the token, shown this once:")
            print(token)
        elif args.token_command == "revoke":
            record = tokens.revoke(ACTOR, args.name)
            print(f"revoked {record.name}")
        else:
            rows = tokens.all()
            for r in rows:
                used = f"used {r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never used"
                state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
                print(f"{r.name:<28}  {r.scope:<5}  {r.prefix}…  {state:<24}  {used}  by {r.created_by}")
            if not rows:
                print("no API tokens")
    except TokenError as err:
        print(f"casedesk: {err}", file=sys.stderr)
        return 2
    return 0


def webhooks(db: Database, args: argparse.Namespace) -> int:
    hooks = Webhooks(db)
    try:
        if args.webhooks_command == "add":
            record, secret = hooks.add(
                ACTOR, args.url, args.events.split(","), secret=args.secret, allow_private=args.allow_private
            )
            print(f"webhook #{record.id} → {record.url} ({', '.join(record.events)}); signing secret:")
            print(secret)
        elif args.webhooks_command == "remove":
            print(f"removed webhook #{hooks.remove(ACTOR, args.id).id}")
        elif args.webhooks_command == "deliveries":
            sent = hooks.deliveries(args.webhook, state=args.state, limit=args.limit)
            for d in sent:
                status = d.last_status if d.last_status is not None else "-"
                print(
                    f"#{d.id}  webhook #{d.webhook_id}  {d.created_at:%Y-%m-%d %H:%M:%S}  {d.event:<19}  {d.state:<7}  "
                    f"attempts {d.attempts}  last {status}  {d.event_id}  {d.error or ''}"
                )
            if not sent:
                print("no deliveries")
        elif args.webhooks_command == "replay":
            print(f"{hooks.replay(args.ids or None, dead=args.dead)} deliveries will be posted again by the running bot")
        else:
            rows = hooks.all()
            for h in rows:
                private = "  (private addresses allowed)" if h.allow_private else ""
                print(f"#{h.id}  {h.url}  {','.join(h.events)}{private}")
            if not rows:
                print("no webhooks")
    except WebhookError as err:
        print(f"casedesk: {err}", file=sys.stderr)
        return 2
    return 0
