"""Role members named by email (SPEC §4.2) sign off from Teams: the bot asks the connector for
the clicker's member record (its email) in the conversation of the click."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.memory import MemoryStore
from tests.support.fake_connector import FakeConnector
from tests.support.teams_activities import TeamsClient, card_text

from .conftest import UNAUTHENTICATED
from .test_teams_signoffs import ADA, GRACE, button, click, declare, put_of

ADA_ID = "29:1abcDEFghiJKLmnoPQRstuVWXyz0123456789-aBcDeFgHiJkLmNoPqRsTuVwXyZ"
POLICY = """
roles:
  qa: ["email:ada@example.com"]
  eng: ["slack:U0ENG0001"]
  ops: ["slack:U0OPS0001"]
classes:
  standard: {}
  normal: {signoffs: [qa, eng]}
  emergency: {signoffs: [ops], retro_review_hours: 48}
"""


@pytest.fixture
def bot_env(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return {**UNAUTHENTICATED, "RELEASEBOT_POLICY_FILE": str(path)}


async def test_a_member_named_by_email_signs_off_from_teams(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    connector.members[ADA_ID] = {
        "id": ADA_ID,
        "name": "Ada Lovelace",
        "aadObjectId": ADA.removeprefix("teams:"),
        "email": "Ada@Example.com",
        "userPrincipalName": "ada@example.onmicrosoft.com",
    }
    posted = await declare(teams, owner=GRACE)

    card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))

    assert "✓ qa: approved by Ada Lovelace" in card_text(card)
    await connector.wait_for(put_of(posted))  # everyone's copy updated, as for any sign-off
    [asked] = [r for r in connector.requests if r.method == "GET"]
    assert asked.path == f"/v3/conversations/{posted.conversation['id']}/members/{ADA_ID}"
    [signoff] = store.data.tables.signoffs
    # Recorded under the principal the role names: the same signer from Slack or Teams.
    assert (signoff.principal, signoff.display_name) == ("email:ada@example.com", "Ada Lovelace")


async def test_a_member_teams_does_not_know_is_refused(
    teams: TeamsClient, store: MemoryStore, connector: FakeConnector
) -> None:
    posted = await declare(teams, owner=GRACE)  # the connector knows no member: 404

    card = await teams.invoke(click(teams, posted, button(posted.card, "Approve as qa")))

    assert "You are not a member of the qa role" in card_text(card)
    assert store.data.tables.signoffs == []
