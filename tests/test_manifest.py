"""manifest.yml and railway.json agree with the code and with their schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from bot.app import Casedesk
from bot.handlers import commands, customer_channels, forms, macros, message_tickets, messages, summary, ticket_lists
from bot.handlers.events import BOT_EVENTS
from bot.slack.scopes import METHOD_SCOPES, REQUIRED_SCOPES
from slack_double import SlackDouble
from tests.conftest import People

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT.parent / "shared" / "slack" / "manifest-schema"
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())


def code_web_api_methods() -> set[str]:
    """Every Web API method called as client.<family>_<method>(...) in the bot's code."""
    pattern = re.compile(r"\.((?:auth|apps_connections|chat|views|users|conversations|pins|reactions|files)_[a-zA-Z]+|team_info)\(")
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for name in pattern.findall(path.read_text()):
            family, _, method = name.rpartition("_")
            found.add(f"{family.replace('_', '.')}.{method}")
    return found


def test_every_web_api_method_the_code_calls_has_a_known_scope() -> None:
    called = code_web_api_methods()
    assert called, "the scan found no calls"
    assert called <= set(METHOD_SCOPES), f"add these to bot/slack/scopes.py: {sorted(called - set(METHOD_SCOPES))}"


def test_manifest_scopes_are_exactly_the_ones_the_code_uses() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == REQUIRED_SCOPES


def test_every_registered_command_and_event_is_in_the_manifest() -> None:
    manifest_commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert set(commands.COMMANDS) | set(ticket_lists.COMMANDS) | set(summary.COMMANDS) | set(macros.COMMANDS) | set(forms.COMMANDS) == manifest_commands
    assert all(c["should_escape"] is False for c in MANIFEST["features"]["slash_commands"])
    assert set(BOT_EVENTS) | set(messages.BOT_EVENTS) | set(message_tickets.BOT_EVENTS) | set(customer_channels.BOT_EVENTS) <= set(
        MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    )
    assert [(s["type"], s["callback_id"]) for s in MANIFEST["features"]["shortcuts"]] == [("message", message_tickets.SHORTCUT)]
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_every_manifest_command_is_answered(desk: Casedesk, double: SlackDouble, people: People) -> None:
    for command in MANIFEST["features"]["slash_commands"]:
        env = people.reporter.run(command["command"])
        assert env.acks == 1


def test_a_direct_message_gets_the_help_text(desk: Casedesk, double: SlackDouble, people: People) -> None:
    dm = double.workspace.dm_channel(people.reporter.id)
    env = double.socket.send(
        "events_api",
        {
            "token": "legacy",
            "team_id": "T0CASEDESK",
            "api_app_id": "A0CASEDESK",
            "type": "event_callback",
            "event_id": "Ev0001",
            "event_time": 1795363610,
            "event": {
                "type": "message",
                "channel": dm.id,
                "channel_type": "im",
                "user": people.reporter.id,
                "text": "hello?",
                "ts": double.workspace.next_ts(),
            },
        },
    )
    double.socket.wait_ack(env)
    assert "/new-ticket" in people.reporter.wait_dm("I'm Casedesk").text


@pytest.mark.skipif(not SCHEMAS.exists(), reason="Slack's manifest schema is not beside the checkout")
def test_manifest_is_valid_against_slacks_schema() -> None:
    top = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    resources = []
    for path in (SCHEMAS / "schemas").glob("*.json"):
        url = f"https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/{path.name}"
        resources.append((url, Resource.from_contents(json.loads(path.read_text()))))
    registry: Registry = Registry().with_resources(resources)
    errors = sorted(Draft7Validator(top, registry=registry).iter_errors(MANIFEST), key=str)
    assert errors == [], [e.message for e in errors]


def test_railway_config_starts_the_bot_with_a_health_check() -> None:
    config = json.loads((ROOT / "railway.json").read_text())
    assert config["$schema"] == "https://railway.com/railway.schema.json"
    assert config["build"]["builder"] in ("RAILPACK", "NIXPACKS", "DOCKERFILE")
    deploy = config["deploy"]
    assert deploy["startCommand"] == "python -m bot"
    assert deploy["healthcheckPath"] == "/ready"
    assert deploy["restartPolicyType"] == "ON_FAILURE"
    assert set(deploy) <= {"startCommand", "healthcheckPath", "healthcheckTimeout", "restartPolicyType", "restartPolicyMaxRetries"}
