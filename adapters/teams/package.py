"""Build the Microsoft Teams app package: manifest.json and its two icons in one zip."""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
MANIFEST_NAME = "manifest.json"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def default_manifest_dir() -> Path:
    """Return the repository's manifests/teams folder."""
    return Path(__file__).resolve().parents[2] / "manifests" / "teams"


def check_app_id(app_id: str) -> str:
    """Return app_id unchanged when it is a GUID; raise ValueError otherwise."""
    if not _GUID.fullmatch(app_id):
        raise ValueError(f"TEAMS_APP_ID must be a GUID, got {app_id!r}")
    return app_id


def load_manifest(manifest_dir: Path) -> dict[str, Any]:
    """Read manifest.json from manifest_dir."""
    manifest: dict[str, Any] = json.loads((manifest_dir / MANIFEST_NAME).read_text("utf-8"))
    return manifest


def fill_app_id(manifest: dict[str, Any], app_id: str) -> dict[str, Any]:
    """Return a copy of manifest with app_id as its `id` and as every bot's `botId`."""
    filled = copy.deepcopy(manifest)
    filled["id"] = app_id
    for bot in filled.get("bots", []):
        bot["botId"] = app_id
    return filled


def icon_files(manifest: dict[str, Any], manifest_dir: Path) -> dict[str, Path]:
    """Map each icon name in the manifest to its file; raise FileNotFoundError if one is missing."""
    files = {name: manifest_dir / name for name in manifest["icons"].values()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"Teams icon not found: {', '.join(missing)}")
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Store data under name with a fixed timestamp, so equal inputs give equal zips."""
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def write_teams_package(*, app_id: str, out_path: Path, manifest_dir: Path) -> Path:
    """Write the Teams app zip for app_id to out_path and return out_path."""
    manifest = fill_app_id(load_manifest(manifest_dir), check_app_id(app_id))
    icons = icon_files(manifest, manifest_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w") as archive:
        _add(archive, MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        for name, path in icons.items():
            _add(archive, name, path.read_bytes())
    return out_path
