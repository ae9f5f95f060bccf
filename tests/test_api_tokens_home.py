"""API tokens from the Admin section of the App Home, through the double: an admin creates
one (shown once, in the modal), it works, they revoke it; a non-admin is refused."""

from __future__ import annotations

import re

from bot.app import Casedesk
from bot.services.api_tokens import ApiTokens
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, People
from tests.test_admin import dump, kinds, open_from_home


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(desk: Casedesk, double: SlackDouble, people: People) -> None:
    assert desk.deps.db is not None
    tokens = ApiTokens(desk.deps.db)
    modal = open_from_home(people.agent, "API tokens")
    assert view_errors(modal.view) == []
    assert "No API tokens yet." in dump(modal.view)
    modal.type("New token's name", "Bad Name!").choose("Scope", "write")
    modal.submit()
    assert "1 to 28 characters" in modal.errors["token_name"]

    modal.type("New token's name", "crm").choose("Scope", "write")
    modal.submit()
    assert modal.title == "API token created" and view_errors(modal.view) == []
    found = re.search(r"```(cd_[A-Za-z0-9_-]+)```", dump(modal.view))
    assert found is not None
    record = tokens.verify(found.group(1))
    assert record is not None and (record.name, record.scope, record.created_by) == ("crm", "write", AGENT)
    assert all(found.group(1) not in str(vars(t)) for t in tokens.all())  # only its hash is kept

    listing = open_from_home(people.agent, "API tokens")
    assert "*crm* · write" in dump(listing.view)
    listing.click("Revoke", near="crm")
    assert "Revoked crm." in dump(listing.view) and "No API tokens yet." in dump(listing.view)
    assert tokens.verify(found.group(1)) is None
    assert kinds(desk)[-2:] == ["api_token_created", "api_token_revoked"]


def test_someone_not_an_admin_cannot_open_or_submit_it(desk: Casedesk, double: SlackDouble, people: People) -> None:
    admin_home = people.agent.open_home()
    double.workspace.home_views[people.outsider.id] = admin_home  # as if their client showed the admin's tab
    people.outsider.click_home("API tokens")
    people.outsider.wait_dm("Only admins")
    assert desk.deps.db is not None and ApiTokens(desk.deps.db).all() == []
