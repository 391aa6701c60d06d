"""Reply → Adaptive Card, and the schema check every Teams test relies on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.teams import cards
from bot import commands
from bot.reply import Action, Fact, Reply, Section, Struck, Style, Tone
from bot.text import plain_text
from tests.support.adaptive_cards import (
    SCHEMA,
    assert_valid_card,
    card_validator,
    tightened,
)
from tests.support.teams_activities import card_text, fixture

STATUS = commands.dump(commands.Status("checkout@2.4.0"))
REJECT = commands.dump(commands.Reject("checkout@2.4.0", reason="", role="qa"))

FULL = Reply(
    title="Release checkout@2.4.0",
    tone=Tone.WARNING,
    summary="Deploying now",
    facts=(Fact("State", "deploying"), Fact("Owner", "teams:6a3a8f2c")),
    sections=(
        Section("Sign-offs", ("qa: approved", "eng: waiting", Struck("ops: approved", " (stale)"))),
        Section(None, ("x",)),
    ),
    actions=(
        Action("Status", STATUS, Style.PRIMARY),
        Action("Reject as qa", REJECT, Style.DANGER, asks_for="reason", prompt="Why reject?"),
    ),
    notes=("⚠ Close to search@1.0",),
    usage="status <service@version>",
    broadcast=True,
    subject="checkout@2.4.0",
)

REPLIES = [
    pytest.param(Reply(title="Nothing scheduled"), id="title-only"),
    pytest.param(FULL, id="everything"),
    pytest.param(Reply(title="Empty", sections=(Section(None, ()),)), id="empty-section"),
    *(pytest.param(Reply(title="t", tone=tone), id=f"tone-{tone}") for tone in Tone),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_every_reply_renders_a_valid_1_5_card(reply: Reply) -> None:
    card = cards.render(reply)

    assert_valid_card(card)
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.5")
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["fallbackText"] == plain_text(reply)


def test_the_card_shows_title_summary_facts_sections_notes_and_usage() -> None:
    card = cards.render(FULL)

    title = card["body"][0]
    assert (title["weight"], title["size"], title["wrap"]) == ("Bolder", "Medium", True)
    assert title["color"] == "Warning" and title["text"].startswith("! ")
    assert card["body"][2] == {
        "type": "FactSet",
        "facts": [
            {"title": "State", "value": "deploying"},
            {"title": "Owner", "value": "teams:6a3a8f2c"},
        ],
    }
    assert card_text(card).splitlines()[-2:] == [
        "⚠ Close to search@1.0",
        "Usage: status <service@version>",
    ]
    assert all(b.get("isSubtle") and b["size"] == "Small" for b in card["body"][-2:])


def test_a_struck_line_is_struck_through_then_says_why_in_plain_type() -> None:
    signoffs = cards.render(FULL)["body"][3]["items"]

    assert signoffs[-1] == {
        "type": "RichTextBlock",
        "inlines": [
            {"type": "TextRun", "text": "ops: approved", "strikethrough": True},
            {"type": "TextRun", "text": " (stale)"},
        ],
        "spacing": "None",
    }
    assert "ops: approved (stale)" in card_text(cards.render(FULL)).splitlines()


def test_an_action_is_an_execute_with_the_dumped_command_and_a_submit_fallback() -> None:
    action = cards.render(FULL)["actions"][0]

    assert action["type"] == "Action.Execute"
    assert (action["title"], action["verb"], action["style"]) == ("Status", "status", "positive")
    # rbOn: the card the button is on, so a click is answered with that card.
    assert action["data"] == {"rb": STATUS, "rbOn": "checkout@2.4.0"}
    assert action["fallback"] == {
        "type": "Action.Submit",
        "title": "Status",
        "data": {"rb": STATUS, "rbOn": "checkout@2.4.0"},
        "style": "positive",
    }


def test_a_card_of_nothing_in_particular_names_no_subject_on_its_buttons() -> None:
    card = cards.render(Reply(title="Help", actions=(Action("Status", STATUS),)))

    assert card["actions"][0]["data"] == {"rb": STATUS}
    assert cards.clicked_subject(card["actions"][0]["data"]) is None


def test_an_action_that_asks_for_text_opens_a_required_input() -> None:
    show = cards.render(FULL)["actions"][1]

    assert show["type"] == "Action.ShowCard" and show["style"] == "destructive"
    (text_input,) = show["card"]["body"]
    assert text_input["isRequired"] and text_input["label"] == "Why reject?"
    (execute,) = show["card"]["actions"]
    assert execute["data"] == {
        "rb": REJECT,
        "rbField": "reason",
        "rbInput": text_input["id"],
        "rbOn": "checkout@2.4.0",
    }
    assert cards.clicked_subject(execute["data"]) == "checkout@2.4.0"


def test_a_click_gives_back_the_command_with_the_typed_text_in_its_field() -> None:
    data = {"rb": REJECT, "rbField": "reason", "rbInput": "rbInput2", "rbInput2": "  too risky "}

    assert cards.clicked_command({"rb": STATUS}) == commands.Status("checkout@2.4.0")
    assert cards.clicked_command(data) == commands.Reject("checkout@2.4.0", "too risky", "qa")


def test_a_click_without_its_text_gives_an_empty_field_for_the_core_to_refuse() -> None:
    data = {"rb": REJECT, "rbField": "reason", "rbInput": "rbInput2"}

    assert cards.clicked_command(data) == commands.Reject("checkout@2.4.0", "", "qa")


NOT_OURS = [
    pytest.param(None, id="none"),
    pytest.param({"action": "approve", "release": "1.4.2"}, id="fixture-04-value"),
    pytest.param({"rb": "not json"}, id="not-json"),
    pytest.param({"rb": '{"c":"Shutdown"}'}, id="unknown-command"),
    pytest.param({"rb": REJECT, "rbField": "nope"}, id="no-such-field"),
    pytest.param(
        {"rb": commands.dump(commands.Calendar(7)), "rbField": "days", "rbInput": "i"},
        id="not-a-text-field",
    ),
]


@pytest.mark.parametrize("data", NOT_OURS)
def test_data_we_did_not_write_is_not_our_button(data: Any) -> None:
    with pytest.raises(cards.NotOurButton):
        cards.clicked_command(data)


ESCAPES = [
    ("*bold* _it_ ~~gone~~", "\\*bold\\* \\_it\\_ \\~\\~gone\\~\\~"),
    ("[click](http://evil.example)", "\\[click\\](http://evil.example)"),
    ("`code` <b>", "\\`code\\` \\<b\\>"),
    ("{{DATE(2026-12-03T14:00:00Z, SHORT)}}", "\\{\\{DATE(2026-12-03T14:00:00Z, SHORT)\\}\\}"),
    (
        "- not a list\n1. nor this\n# nor a heading",
        "\\- not a list\n1\\. nor this\n\\# nor a heading",
    ),
    ("checkout@2.4.0 — 1.5 ✓ ünïcödé 🚀", "checkout@2.4.0 — 1.5 ✓ ünïcödé 🚀"),
    ("back\\slash", "back\\\\slash"),
]


@pytest.mark.parametrize(("text", "escaped"), ESCAPES)
def test_user_text_is_escaped_to_show_literally(text: str, escaped: str) -> None:
    card = cards.render(Reply(title=text, facts=(Fact(text, text),)))

    assert card["body"][0]["text"] == escaped
    assert card["body"][1]["facts"][0] == {"title": escaped, "value": escaped}
    assert card_text(card).splitlines()[: text.count("\n") + 1] == text.splitlines()


def test_attachment_carries_the_card_with_the_adaptive_content_type() -> None:
    attachment = cards.attachment(FULL)

    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    assert attachment.content == cards.render(FULL)


def test_the_recorded_teams_cards_are_valid_so_the_check_is_not_too_strict() -> None:
    sent = fixture("08_connector_exchanges.json")["send_adaptive_card"]["request"]["body"]
    answered = fixture("11_invoke_responses.json")["card"]["value"]

    assert_valid_card(sent["attachments"][0]["content"])
    assert_valid_card(answered)


LOOSE = [
    pytest.param({"weight": "NotBolder"}, id="unanchored-pattern"),
    pytest.param({"color": "|efault"}, id="pipe-in-character-class"),
    pytest.param({"size": 5}, id="pattern-without-string-type"),
]


@pytest.mark.parametrize("style", LOOSE)
def test_what_the_published_schema_lets_through_is_caught(style: dict[str, Any]) -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "x", **style}],
    }

    with pytest.raises(AssertionError, match="invalid Adaptive Card"):
        assert_valid_card(card)


def test_the_tightened_schema_is_still_a_valid_draft_06_schema() -> None:
    validator = card_validator()
    schema = tightened(json.loads(SCHEMA.read_text("utf-8")))

    type(validator).check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert type(validator).__name__ == "Draft6Validator"
