"""/api/v1/cases/bulk: open (POST) or change (PATCH) up to 100 cases in one call.

Each item is done on its own, exactly as the single call would do it (the same fields and
checks, the same services, its own transaction; new cases several at once on PostgreSQL): one that fails is reported in its place
and the others are done all the same. The call answers 200 with one result per item, in
the order given, each carrying the HTTP status the single call would have answered and
either the case or the problem; only a call that is wrong as a whole (not a list, more
than 100 items, an unknown top-level field, a read token) is refused outright.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from bot.api.calls import Call, as_problem
from bot.api.cases import MAX_ID, PATCH_FIELDS, change_case, new_ticket, summaries
from bot.api.fields import Fields
from bot.api.problems import Problem, problem_body
from bot.services.bulk import bulk_workers
from bot.services.records import parse_number
from db.models import Ticket

log = logging.getLogger("casedesk.api")
MAX_ITEMS = 100
MAX_BODY = 4 * 1024 * 1024  # 100 cases with long details
CALL_FIELDS = ("cases",)
ITEM_PATCH_FIELDS = ("number", *PATCH_FIELDS)


def create_cases(call: Call) -> Response:
    """Open each case as POST /cases does (idempotent by its own external_id)."""

    def create(item: dict[str, Any]) -> tuple[int, int]:
        record, created = call.ctx.tickets.create(new_ticket(call.ctx, item))
        return record.id, 201 if created else 200

    # Cases are independent (two with one external_id still make one): on PostgreSQL several
    # are opened at once, as a bulk action in Slack changes several at once.
    return _each(call, create, bulk_workers(call.ctx.db))


def update_cases(call: Call) -> Response:
    """Change each case, named by its ``number``, as PATCH /cases/{number} does, one after
    the other (two items may change one case: the later one sees the earlier's change)."""

    def update(item: dict[str, Any]) -> tuple[int, int]:
        ticket_id = _number(item.get("number"))
        change_case(call.ctx, call.token.actor, ticket_id, item, ITEM_PATCH_FIELDS)
        return ticket_id, 200

    return _each(call, update)


def _each(call: Call, work: Callable[[dict[str, Any]], tuple[int, int]], workers: int = 1) -> Response:
    """Do ``work`` for each item (``workers`` > 1: that many at once), then answer with
    each item's result in the order given."""
    items = _items(call.json())

    def one(index: int) -> tuple[int, int] | dict[str, Any]:
        """(case id, status), or the item's problem."""
        item = items[index]
        try:
            if not isinstance(item, dict):
                raise Problem(422, "invalid-fields", "Each item must be a JSON object.")
            return as_problem(partial(work, item))
        except Problem as problem:
            return problem_body(problem, f"cases[{index}]")
        except Exception:  # a fault of ours for this item (the database hiccuped): the others go on
            log.exception("api bulk item %d failed", index)
            return problem_body(Problem(500, "internal", "The desk could not do this item; try it again."), f"cases[{index}]")

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="casedesk-api-bulk") as pool:
            outcomes = list(pool.map(one, range(len(items))))
    else:
        outcomes = [one(index) for index in range(len(items))]
    done = {i: o for i, o in enumerate(outcomes) if isinstance(o, tuple)}
    with call.ctx.db.read() as session:
        rows = list(session.scalars(select(Ticket).where(Ticket.id.in_({i for i, _ in done.values()}))))
        cases = {c["id"]: c for c in summaries(session, rows)}
    results: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, tuple):
            results.append({"index": index, "status": outcome[1], "case": cases[outcome[0]]})
        else:
            results.append({"index": index, "status": outcome["status"], "problem": outcome})
    return JSONResponse({"results": results, "succeeded": len(done), "failed": len(outcomes) - len(done)})


def _items(body: dict[str, Any]) -> list[Any]:
    f = Fields(body, CALL_FIELDS)
    items = body.get("cases")
    if not isinstance(items, list) or not items:
        f.errors["cases"] = f"A list of 1 to {MAX_ITEMS} objects."
    elif len(items) > MAX_ITEMS:
        f.errors["cases"] = f"At most {MAX_ITEMS} items in one call ({len(items)} given): split them."
    f.check()
    assert isinstance(items, list)
    return items


def _number(raw: object) -> int:
    number = parse_number(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    if number is None or number > MAX_ID:
        raise Problem(422, "invalid-fields", "Some fields are not valid: see errors.", errors={"number": "A case number: TCK-000123 or 123."})
    return number
