"""Slack users' email addresses, for policies that name role members by email (bot/people.py).

`users.info` shows `profile.email` only with the `users:read.email` scope (in the manifest).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.people import EmailOf


def email_lookup(client: AsyncWebClient) -> EmailOf:
    async def email_of(principal: str) -> str | None:
        response = await client.users_info(user=principal.removeprefix("slack:"))
        user = response.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return email if isinstance(email, str) and email else None

    return email_of
