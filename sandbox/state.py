"""What one person sees in the sandbox's workspace now, as the page's JSON (see API.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sandbox import cast
from sandbox.desk import Sandbox
from slack_double.workspace import BOT_USER_ID, Message, Workspace


def message_json(ws: Workspace, msg: Message) -> dict[str, Any]:
    return {
        "channel": msg.channel,
        "ts": msg.ts,
        "user": msg.user,
        "bot": bool(msg.bot_id) or msg.user == BOT_USER_ID,
        "text": msg.text,
        "blocks": msg.blocks,
        "thread_ts": msg.thread_ts if msg.thread_ts != msg.ts else None,
        "reply_count": len(ws.thread(msg.channel, msg.ts)),
        "edited": msg.edited_ts is not None,
        "pinned": msg.ts in ws.pins.get(msg.channel, []),
    }


def state_for(sandbox: Sandbox, me: str) -> dict[str, Any]:
    ws = sandbox.double.workspace
    with ws.lock:
        version = ws.changed.version
        # What this person's Slack shows: the channels they are in (a customer sees only theirs).
        rooms = [ws.channels[room.id] for room in cast.ROOMS if room.id in ws.channels and me in ws.channels[room.id].members]
        dm = ws.dm_channel(me)
        channels, messages, threads = [], {}, {}
        for ch in [*rooms, dm]:
            top = ws.channel_messages(ch.id, top_level_only=True)
            channels.append({"id": ch.id, "name": "casedesk" if ch.im_user else ch.name, "is_im": bool(ch.im_user),
                             "latest": top[-1].ts if top else None})
            messages[ch.id] = [message_json(ws, m) for m in top]
            for parent in top:
                replies = ws.thread(ch.id, parent.ts)
                if replies:
                    threads[f"{ch.id}:{parent.ts}"] = [message_json(ws, m) for m in replies]
        ephemerals = [
            {"channel": e.channel, "ts": e.ts, "text": e.text, "blocks": e.blocks} for e in ws.ephemerals_for(me)
        ]
        views = [
            {"id": v.id, "view": v.view, "errors": dict(v.errors)}
            for v in ws.views.values()
            if v.user == me and not v.closed and v.view.get("type") == "modal"
        ]
        home = ws.home_views.get(me)
        # Another organisation's people have their names under the profile only, as Slack gives them.
        users = {uid: {"name": u["name"], "real_name": u.get("real_name") or u["profile"]["real_name"]} for uid, u in ws.users.items()}
        channel_names = {ch.id: ch.name for ch in ws.channels.values() if not ch.im_user}
    return {
        "version": version,
        "me": me,
        "channels": channels,
        "messages": messages,
        "threads": threads,
        "ephemerals": ephemerals,
        "views": views,
        "home": {"id": f"home-{me}", "view": home, "errors": {}} if home else None,
        "users": users,
        "channel_names": channel_names,
        "mail": {
            "to_desk": [asdict(m) for m in sandbox.mailroom.to_desk],
            "from_desk": [asdict(m) for m in sandbox.mail_from_desk()],
        },
    }


def bootstrap(sandbox: Sandbox) -> dict[str, Any]:
    from bot.jobs import JOBS

    return {
        "people": [
            {"id": p.id, "name": p.name, "real_name": p.real_name, "role": p.role, "description": p.description}
            for p in cast.PEOPLE
        ],
        "default_person": cast.REPORTER.id,
        "bot": {"id": BOT_USER_ID, "name": "casedesk"},
        "channels": [{"id": r.id, "name": r.name, "purpose": r.purpose} for r in cast.ROOMS],
        "commands": [{"command": c, "hint": h} for c, h in cast.COMMANDS],
        "jobs": [{"name": name, "label": cast.JOB_LABELS.get(name, name)} for name in JOBS],
        "mailbox": sandbox.env["IMAP_EMAIL"],
        "customer": {"name": cast.CUSTOMER_NAME, "email": cast.CUSTOMER_EMAIL},
    }
