"""The Slack and Teams app manifests, the Teams icons and the Teams package writer."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for

from adapters.teams.package import PLACEHOLDER_ID, default_manifest_dir, write_teams_package

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCHEMAS = SHARED / "schemas"
SLACK_MANIFEST = REPO / "manifests" / "slack" / "manifest.yaml"
TEAMS_DIR = REPO / "manifests" / "teams"
SLACK_SCHEMA = "slack-app-manifest.schema.json"
TEAMS_SCHEMA = "teams-manifest-v1.30.schema.json"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
PACKAGE_FILES = {"manifest.json", "color.png", "outline.png"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_schema(name: str) -> dict[str, Any]:
    """Return a shared schema; fail in CI and skip elsewhere when it is missing."""
    path = SCHEMAS / name
    if not path.is_file():
        reason = f"schema {path} is missing: the shared/ folder must sit beside the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return schema


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """Validate instance with the draft the schema declares; return readable errors."""
    validator = validator_for(schema)(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


def slack_manifest() -> dict[str, Any]:
    """Return the Slack manifest as parsed YAML."""
    manifest: dict[str, Any] = yaml.safe_load(SLACK_MANIFEST.read_text("utf-8"))
    return manifest


def teams_manifest() -> dict[str, Any]:
    """Return the Teams manifest as parsed JSON."""
    manifest: dict[str, Any] = json.loads((TEAMS_DIR / "manifest.json").read_text("utf-8"))
    return manifest


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG file into (type, payload) chunks."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG file"
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def png_header(path: Path) -> tuple[int, int, int, int]:
    """Return (width, height, bit depth, colour type) from the IHDR chunk."""
    kind, payload = png_chunks(path.read_bytes())[0]
    assert kind == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
    return width, height, depth, colour


def _paeth(left: int, up: int, up_left: int) -> int:
    """Return the PNG Paeth predictor."""
    estimate = left + up - up_left
    distances = [abs(estimate - left), abs(estimate - up), abs(estimate - up_left)]
    return (left, up, up_left)[distances.index(min(distances))]


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> bytearray:
    """Undo one PNG scanline filter in place."""
    for i, value in enumerate(line):
        left = line[i - bpp] if i >= bpp else 0
        up_left = prior[i - bpp] if i >= bpp else 0
        predictor = [0, left, prior[i], (left + prior[i]) // 2, _paeth(left, prior[i], up_left)]
        line[i] = (value + predictor[kind]) & 0xFF
    return line


def rgba_pixels(path: Path) -> list[tuple[int, ...]]:
    """Decode an 8-bit RGBA, non-interlaced PNG into its pixels."""
    width, height, depth, colour = png_header(path)
    assert (depth, colour) == (8, 6), "expected 8-bit RGBA"
    chunks = png_chunks(path.read_bytes())
    raw = zlib.decompress(b"".join(payload for kind, payload in chunks if kind == b"IDAT"))
    stride, prior, pixels = width * 4, bytes(width * 4), []
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prior, 4)
        pixels += [tuple(line[x : x + 4]) for x in range(0, stride, 4)]
        prior = bytes(line)
    return pixels


def test_slack_manifest_validates_against_the_schema() -> None:
    assert schema_errors(load_schema(SLACK_SCHEMA), slack_manifest()) == []


def test_teams_manifest_validates_against_the_schema() -> None:
    assert schema_errors(load_schema(TEAMS_SCHEMA), teams_manifest()) == []


def test_the_schemas_do_reject_broken_manifests() -> None:
    slack = slack_manifest() | {"unknown_key": True}
    teams = teams_manifest() | {"id": "not-a-guid"}
    assert schema_errors(load_schema(SLACK_SCHEMA), slack)
    assert schema_errors(load_schema(TEAMS_SCHEMA), teams)


def test_slack_sends_commands_interactivity_and_events_to_one_url() -> None:
    manifest = slack_manifest()
    settings = manifest["settings"]
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [settings["interactivity"]["request_url"]]
    urls += [settings["event_subscriptions"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls), urls
    assert len(set(urls)) == 1, urls


def test_slack_manifest_offers_the_release_command_events_and_scopes() -> None:
    manifest = slack_manifest()
    features, settings = manifest["features"], manifest["settings"]
    assert [command["command"] for command in features["slash_commands"]] == ["/release"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "message.im",
    }
    assert {"commands", "chat:write", "app_mentions:read", "im:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )


def test_teams_manifest_carries_the_placeholder_id() -> None:
    manifest = teams_manifest()
    assert manifest["id"] == PLACEHOLDER_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [PLACEHOLDER_ID]


def test_teams_bot_lists_commands_for_each_of_its_scopes() -> None:
    (bot,) = teams_manifest()["bots"]
    listed = [scope for entry in bot["commandLists"] for scope in entry["scopes"]]
    assert sorted(listed) == sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    for entry in bot["commandLists"]:
        assert {"help", "status", "declare"} <= {command["title"] for command in entry["commands"]}


@pytest.mark.parametrize(("name", "size"), [("color.png", 192), ("outline.png", 32)])
def test_teams_icons_have_the_required_size(name: str, size: int) -> None:
    assert teams_manifest()["icons"][name.removesuffix(".png")] == name
    width, height, _, _ = png_header(TEAMS_DIR / name)
    assert (width, height) == (size, size)


def test_outline_icon_is_white_on_transparent() -> None:
    pixels = rgba_pixels(TEAMS_DIR / "outline.png")
    assert all(pixel[:3] == (255, 255, 255) for pixel in pixels if pixel[3])
    assert any(pixel[3] == 0 for pixel in pixels)
    assert any(pixel[3] == 255 for pixel in pixels)


def test_color_icon_is_opaque_and_not_monochrome() -> None:
    pixels = rgba_pixels(TEAMS_DIR / "color.png")
    assert all(pixel[3] == 255 for pixel in pixels)
    assert len({pixel[:3] for pixel in pixels}) > 2


def test_default_manifest_dir_is_the_repository_folder() -> None:
    assert default_manifest_dir() == TEAMS_DIR


def test_package_holds_a_valid_manifest_with_the_app_id(tmp_path: Path) -> None:
    out = write_teams_package(app_id=APP_ID, out_path=tmp_path / "app.zip", manifest_dir=TEAMS_DIR)
    with zipfile.ZipFile(out) as archive:
        assert set(archive.namelist()) == PACKAGE_FILES
        manifest = json.loads(archive.read("manifest.json"))
        icons = {name: archive.read(name) for name in ("color.png", "outline.png")}
    assert schema_errors(load_schema(TEAMS_SCHEMA), manifest) == []
    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert all(data == (TEAMS_DIR / name).read_bytes() for name, data in icons.items())


def test_package_is_reproducible(tmp_path: Path) -> None:
    first = write_teams_package(app_id=APP_ID, out_path=tmp_path / "a.zip", manifest_dir=TEAMS_DIR)
    second = write_teams_package(app_id=APP_ID, out_path=tmp_path / "b.zip", manifest_dir=TEAMS_DIR)
    assert first.read_bytes() == second.read_bytes()


def test_package_leaves_the_source_manifest_alone(tmp_path: Path) -> None:
    before = (TEAMS_DIR / "manifest.json").read_bytes()
    write_teams_package(app_id=APP_ID, out_path=tmp_path / "app.zip", manifest_dir=TEAMS_DIR)
    assert (TEAMS_DIR / "manifest.json").read_bytes() == before


@pytest.mark.parametrize(
    "app_id",
    ["", "releasebot", "3f2504e0-4f89-41d3-9a0c-0305e82c330", f"{APP_ID}\n", f"{{{APP_ID}}}"],
)
def test_package_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path, app_id: str) -> None:
    out = tmp_path / "app.zip"
    with pytest.raises(ValueError, match="TEAMS_APP_ID must be a GUID, got"):
        write_teams_package(app_id=app_id, out_path=out, manifest_dir=TEAMS_DIR)
    assert not out.exists()


def test_package_names_a_missing_icon(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_bytes((TEAMS_DIR / "manifest.json").read_bytes())
    (tmp_path / "color.png").write_bytes((TEAMS_DIR / "color.png").read_bytes())
    with pytest.raises(FileNotFoundError, match=r"outline\.png"):
        write_teams_package(app_id=APP_ID, out_path=tmp_path / "app.zip", manifest_dir=tmp_path)
