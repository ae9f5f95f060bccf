"""Is a mail automatic (an out-of-office reply, a bounce, a mailing list)? Such mail never
opens a case and is never answered: answering it is how mail loops start."""

from __future__ import annotations

from email.message import Message

AUTO_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")


def automatic_reason(msg: Message, sender: str, own: frozenset[str]) -> str | None:
    """Why the mail is automatic (the header or sender that says so), or None."""

    def header(name: str) -> str | None:
        value = msg.get(name)
        return None if value is None else str(value).strip().lower()

    if sender in own:
        return "sent from the desk's own address"
    auto_submitted = header("Auto-Submitted")
    if auto_submitted is not None and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients", "List-Id", "List-Unsubscribe"):
        if header(name) is not None:
            return f"{name} present"
    if (header("X-Auto-Response-Suppress") or "").find("all") >= 0:
        return "X-Auto-Response-Suppress: All"
    for name in ("Precedence", "X-Precedence"):
        if (header(name) or "") in BULK_PRECEDENCE:
            return f"{name}: {header(name)}"
    loop = header("X-Loop") or ""
    if any(address in loop for address in own):
        return "X-Loop names the desk"
    return_path = header("Return-Path")
    if return_path is not None and return_path.replace(" ", "") in ("<>", ""):
        return "empty Return-Path (a bounce)"
    if sender.split("@")[0] in AUTO_SENDERS:
        return f"sent by {sender.split('@')[0]}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    return None
