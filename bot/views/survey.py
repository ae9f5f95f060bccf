""""How did we do?": the DM with five buttons and its comment modal, the mail with five
links, the rating page and its answers, and the line in the card's thread."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from bot.views.text import escape, escaped_within, mention

RATE_PREFIX = "csat_rate_"  # + the score: one action per button (unique within their block)
RATE_PATTERN = r"^csat_rate_[1-5]$"
COMMENT = "csat_comment"
COMMENT_MODAL = "csat_comment_modal"
COMMENT_BLOCK, COMMENT_INPUT = "csat_comment_block", "csat_comment_input"
MAX_COMMENT = 3000
FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}
WORDS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"}


def _about(number: str, title: str | None) -> str:
    return f"{number}: {' '.join(title.split())[:150]}" if title else number


def survey_text(number: str, title: str | None) -> str:
    return f"How did we do on {_about(number, title)}? Rate us from 1 to 5."


def survey_blocks(rating_id: int, number: str, title: str | None) -> list[dict[str, Any]]:
    buttons = [
        {
            "type": "button",
            "action_id": f"{RATE_PREFIX}{score}",
            "text": {"type": "plain_text", "text": f"{FACES[score]} {score}", "emoji": True},
            "value": f"{rating_id}:{score}",
        }
        for score in range(1, 6)
    ]
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*How did we do?* Your request {escape(_about(number, title))} was resolved."},
        },
        {"type": "actions", "block_id": "csat_scores", "elements": buttons},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "1 = very poor · 5 = excellent. You can add a comment after."}]},
    ]


def thanks_blocks(rating_id: int, number: str, score: int, *, commented: bool) -> list[dict[str, Any]]:
    """The DM once rated: the score given, and a button to add a comment (until one is added)."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"Thank you! You rated {number} *{score}/5* {FACES[score]}."},
        }
    ]
    if not commented:
        blocks.append(
            {
                "type": "actions",
                "block_id": "csat_more",
                "elements": [
                    {
                        "type": "button",
                        "action_id": COMMENT,
                        "text": {"type": "plain_text", "text": "Add a comment"},
                        "value": str(rating_id),
                    }
                ],
            }
        )
    return blocks


def answered_text(number: str, score: int | None) -> str:
    return f"{number} was rated already ({score}/5): each survey counts once." if score else f"{number} was rated already."


def comment_modal(rating_id: int, number: str, score: int, where: str = "") -> dict[str, Any]:
    """``where``: ``channel:ts`` of the survey DM, redrawn without its button once commented."""
    return {
        "type": "modal",
        "callback_id": COMMENT_MODAL,
        "private_metadata": f"{rating_id}:{where}",
        "title": {"type": "plain_text", "text": "Your comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"You rated {number} *{score}/5*. Anything to add?"}},
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "label": {"type": "plain_text", "text": "Comment"},
                "element": {"type": "plain_text_input", "action_id": COMMENT_INPUT, "multiline": True, "max_length": MAX_COMMENT},
            },
        ],
    }


def rated_line(requester: str, score: int, comment: str | None, *, comment_only: bool = False) -> str:
    """The card's thread: ``⭐ Rated 4/5 by @requester: “…”``."""
    said = f": “{escaped_within(comment, 1500)}”" if comment else ""
    if comment_only:
        return f"💬 {mention(requester)} added to their {score}/5 rating{said}"
    return f"⭐ Rated {score}/5 by {mention(requester)}{said}"


# ---- by mail ------------------------------------------------------------------------------


def survey_subject(number: str, title: str | None) -> str:
    """``How did we do? TCK-000123: <title>``; the case's token is added when it is sent."""
    return f"How did we do? {number}: {' '.join((title or 'Your request').split())[:200]}"


def survey_mail_body(number: str, links: list[tuple[int, str]], valid_for: timedelta) -> str:
    days = max(1, round(valid_for / timedelta(days=1)))
    lines = "\n".join(f"{score} – {WORDS[score]}: {url}" for score, url in links)
    return "\n\n".join(
        [
            f"Hello,\n\nYour request, case {number}, was resolved. How did we do? Choose a rating (1 = very poor, 5 = excellent):",
            lines,
            f"Each link works once, for {days} days. You can add a comment on the page it opens.",
            "This is an automatic message.",
        ]
    )


# ---- the rating page ------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d1c1d}"
    "h1{font-size:1.4rem}textarea{width:100%;min-height:6rem}button{font-size:1rem;padding:.5rem 1.2rem}"
)


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def rate_page(number: str, score: int) -> str:
    """The link's page: the score chosen, a comment box, and the one button that records it.
    (Recording on the POST, not on opening the link: mail scanners open links too.) The form
    posts back to the page's own address, whatever prefix a proxy in front of the bot adds."""
    return page(
        "How did we do?",
        f"<h1>How did we do on {html.escape(number)}?</h1>"
        f"<p>You chose <strong>{score}/5 {FACES[score]} ({WORDS[score]})</strong>.</p>"
        '<form method="post">'
        f'<p><label for="comment">Anything to add? (optional)</label></p>'
        f'<p><textarea id="comment" name="comment" maxlength="{MAX_COMMENT}"></textarea></p>'
        f'<p><button type="submit">Send my rating</button></p></form>',
    )


def thanks_page(number: str, score: int) -> str:
    return page("Thank you", f"<h1>Thank you!</h1><p>Your rating of {score}/5 for {html.escape(number)} is recorded.</p>")


def already_page(number: str, score: int | None) -> str:
    rated = f" ({score}/5)" if score else ""
    return page(
        "Already rated",
        f"<h1>Already rated</h1><p>{html.escape(number)} was rated already{rated}. "
        "Each survey counts once, so nothing was recorded this time.</p>",
    )


def expired_page() -> str:
    return page(
        "Link expired",
        "<h1>This link has expired</h1><p>Rating links work for a limited time, and this one's time is up. "
        "Nothing was recorded. Reply to our mail if you want to tell us something.</p>",
    )


def invalid_page() -> str:
    return page(
        "Link not valid",
        "<h1>This link is not valid</h1><p>It may have been cut short or changed. Nothing was recorded. "
        "Open the link exactly as it is in our mail.</p>",
    )
