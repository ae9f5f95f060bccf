"""POST and PATCH /api/v1/cases/bulk through the real bot and the Slack double: each item
is done as the single call does it (cards posted, idempotent by external id, the same
checks), one bad item is reported in its place while the others are done, and a call that
is wrong as a whole (over 100 items, unknown fields, a read token) is refused outright."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from slack_double import SlackDouble
from tests.conftest import AGENT, AGENT2, SUPPORT, People
from tests.test_api import NEW, PROBLEM, Api, api, quick_webhooks  # noqa: F401 - fixtures, used by name

BULK = "/api/v1/cases/bulk"


def test_bulk_create_opens_each_case_with_its_card_and_reports_bad_items_in_place(api: Api, double: SlackDouble) -> None:
    first = api.post("/api/v1/cases", NEW | {"external_id": "shop-1"}).json()
    items = [
        NEW | {"external_id": "shop-1", "details": "sent again"},  # the same id: the first case, 200
        NEW | {"external_id": "shop-2", "title": "Second"},
        {"requester": "nobody at all", "details": "", "colour": "red"},
        "not an object",
        NEW | {"external_id": "shop-3", "title": "Third", "priority": "low"},
    ]
    answer = api.post(BULK, {"cases": items})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["succeeded"], body["failed"]) == (3, 2)
    results = body["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 200), (1, 201), (2, 422), (3, 422), (4, 201)]
    assert results[0]["case"]["number"] == first["number"] and results[0]["case"]["details"] == NEW["details"]
    assert set(results[2]["problem"]["errors"]) == {"requester", "details", "colour"}
    assert results[2]["problem"]["instance"] == "cases[2]"
    assert results[3]["problem"]["detail"] == "Each item must be a JSON object."
    second, third = results[1]["case"], results[4]["case"]
    assert (second["title"], second["external_id"], second["source"]) == ("Second", "shop-2", "api")
    assert third["priority"] == "low"
    for number in (second["number"], third["number"]):
        double.wait_message(SUPPORT, number)
    again = api.post(BULK, {"cases": [NEW | {"external_id": "shop-2"}]}).json()["results"]
    assert (again[0]["status"], again[0]["case"]["number"]) == (200, second["number"])
    twice = api.post(BULK, {"cases": [NEW | {"external_id": "shop-9"}] * 6}).json()["results"]  # on PostgreSQL at once
    assert sorted(r["status"] for r in twice) == [200] * 5 + [201]
    assert len({r["case"]["number"] for r in twice}) == 1
    listed = api.get("/api/v1/cases").json()["data"]
    assert len(listed) == 4


def test_bulk_update_changes_each_case_by_number_and_reports_each_refusal(
    api: Api, double: SlackDouble, people: People
) -> None:
    api.desk.deps.directory.create_team(AGENT, "Billing")
    numbers = [r["case"]["number"] for r in api.post(BULK, {"cases": [NEW, NEW, NEW]}).json()["results"]]
    cards = [double.wait_message(SUPPORT, n) for n in numbers]
    double.wait_for(lambda: all(api.desk.deps.tickets.get(i).card_ts for i in (1, 2, 3)), what="the cards recorded")
    answer = api.patch(BULK, {"cases": [
        {"number": numbers[0], "status": "resolved", "note": "Fixed."},
        {"number": numbers[1], "assignee": AGENT2, "priority": "low", "team": "Billing"},
        {"number": "TCK-999999", "status": "closed"},
        {"number": numbers[2], "status": "in_progress"},
        {"number": numbers[2], "assignee": "U0NOBODY"},
        {"status": "closed"},
        {"number": numbers[2], "colour": "red"},
    ]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 404, 409, 422, 422, 422]
    assert results[0]["case"]["status"] == "resolved"
    changed = results[1]["case"]
    assert (changed["assignee"], changed["priority"], changed["team"]) == (AGENT2, "low", "Billing")
    assert results[4]["problem"]["errors"] == {"assignee": "The Slack user ID of one of the desk's agents."}
    assert results[5]["problem"]["errors"] == {"number": "A case number: TCK-000123 or 123."}
    assert "colour" in results[6]["problem"]["errors"]
    double.wait_thread_reply(cards[0], f"api:crm resolved {numbers[0]}")
    people.agent2.wait_dm("assigned")
    assert api.get(f"/api/v1/cases/{numbers[2]}").json()["status"] == "open"  # the refused items changed nothing


def test_a_bulk_call_wrong_as_a_whole_is_refused(api: Api) -> None:
    over = api.post(BULK, {"cases": [NEW] * 101})
    assert over.status_code == 422 and over.headers["content-type"] == PROBLEM
    assert over.json()["errors"] == {"cases": "At most 100 items in one call (101 given): split them."}
    unknown = api.post(BULK, {"cases": [NEW], "dry_run": True})
    assert unknown.status_code == 422 and set(unknown.json()["errors"]) == {"dry_run"}
    empties: list[dict[str, object]] = [{}, {"cases": []}, {"cases": {"a": 1}}]
    for empty in empties:
        assert api.post(BULK, empty).json()["errors"] == {"cases": "A list of 1 to 100 objects."}
    assert api.patch(BULK, {"cases": [{"number": "1", "status": "closed"}]}, token=api.read).status_code == 403
    refused = api.post(BULK, {"cases": [NEW]}, token=api.read)
    assert refused.status_code == 403 and "may only read" in refused.json()["detail"]
    assert api.http.delete(BULK, headers=api.as_(api.write)).status_code == 405
    assert api.get("/api/v1/cases").json()["data"] == []  # nothing was opened by any of these


def test_the_bulk_bodies_and_answers_fit_their_openapi_schemas(api: Api) -> None:
    spec = api.http.get("/api/v1/openapi.json").json()

    def fits(name: str, value: object) -> bool:
        return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]}).is_valid(value)

    new = {"cases": [NEW | {"external_id": "x-1"}, {"requester": "nobody", "details": "x"}]}
    change = {"cases": [{"number": "TCK-000001", "status": "resolved", "note": "Done."}, {"number": "2", "priority": "low"}]}
    assert fits("BulkNewCases", new) and fits("BulkCaseChanges", change)
    assert not fits("BulkCaseChanges", {"cases": [{"status": "closed"}]}) and not fits("BulkNewCases", {"cases": [NEW] * 101})
    assert fits("BulkResults", api.post(BULK, new).json())
    assert fits("BulkResults", api.patch(BULK, change).json())
