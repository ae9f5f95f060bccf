"""The setup doctor lists the desk's teams and routing rules, and flags a channel the bot is not in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.services.directory import Directory, NewRule, TeamDraft
from bot.services.status import Priority
from bot.services.team_service_levels import TeamLevels, check_team_levels
from db.session import Database, make_engine
from slack_double import SlackDouble
from tests.conftest import AGENT, AGENT2, GENERAL, People
from tests.test_operations import bot_env, check


def test_doctor_lists_teams_and_rules(double: SlackDouble, people: People, tmp_path: Path) -> None:
    double.channel("C0NOTIN", "billing-triage", bot_member=False)
    assert subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=bot_env(double), cwd=tmp_path).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'casedesk.db'}")
    try:
        directory = Directory(Database(engine), frozenset({AGENT}))
        directory.bootstrap()
        billing = directory.save_team(AGENT, None, 0, TeamDraft("Billing", "C0NOTIN", (), AGENT2, (AGENT, AGENT2), "round_robin"))
        web_levels, problems = check_team_levels(TeamLevels("Europe/Berlin", "mon-thu", "08:00-16:00", "2026-12-24, 2026-12-31",
                                                            {Priority.HIGH: "30m/4h"}))
        assert problems == {}
        directory.save_team(AGENT, None, 0, TeamDraft("Web", GENERAL, (), None, (AGENT,), "off", web_levels))
        directory.add_rule(AGENT, NewRule("issue_type", "Bug", billing.id))
        directory.add_rule(AGENT, NewRule("intake_channel", "C0NOTIN", billing.id))
        directory.add_rule(AGENT, NewRule("intake_channel", GENERAL, billing.id))
    finally:
        engine.dispose()
    result = check(double, tmp_path)
    lines = result.stdout.splitlines()
    # The migration carried SYSTEM_USERS into the default team.
    assert "✓ team Support (default): cards in the support channel, 2 members, lead none, automatic assignment off" in lines
    assert ("✗ team Billing: cards in #billing-triage, where the bot is not a member: in #billing-triage, type /invite @Casedesk"
            in lines)
    assert "✓ team Web: cards in #general, 1 member, lead none, automatic assignment off" in lines
    assert ("✓ team Web: its own service levels: Europe/Berlin, mon-thu, 08:00-16:00, 2 holidays, High 30m/4h "
            "(the desk's otherwise)") in lines
    assert "✓ routing rule 1: issue type Bug → Billing" in lines
    assert ("✗ routing rule 2: intake channel #billing-triage, where the bot is not a member: in #billing-triage, "
            "type /invite @Casedesk → Billing") in lines
    assert "✓ routing rule 3: intake channel #general → Billing" in lines
    assert result.returncode == 1
