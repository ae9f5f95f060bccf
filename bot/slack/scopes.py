"""Which bot scopes the code needs, and why. The manifest and the setup doctor use this."""

from __future__ import annotations

# Every Web API method the bot calls → the bot scope it needs ("" = none).
METHOD_SCOPES: dict[str, str] = {
    "auth.test": "",
    "apps.connections.open": "",  # app-level token, connections:write
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": "",
    "chat.delete": "chat:write",
    "pins.add": "pins:write",
    "pins.remove": "pins:write",
    "pins.list": "pins:read",
    "views.open": "",
    "views.update": "",
    "views.publish": "",
    "users.info": "users:read",
    "conversations.info": "channels:read",  # and groups:read for private channels
    # Looking for a post an interrupted attempt may have made, before posting it again.
    "conversations.history": "channels:history",  # and groups:/im:history in private channels and DMs
    "conversations.replies": "channels:history",
    "conversations.open": "im:write",  # the DM channel of a person, to look in it
    "team.info": "team:read",  # a customer organisation's name (Slack Connect channels)
    "files.info": "files:read",  # a file shared in a Slack Connect channel arrives as a stub
    # The weekly summary's chart, uploaded as files_upload_v2 does it.
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}

# Scopes needed for what the bot receives rather than calls.
FEATURE_SCOPES: dict[str, str] = {
    "commands": "slash commands",
    "files:read": "the screenshot field (file_input) of the ticket form",
    "im:history": "direct messages to the bot (message.im)",
    "groups:read": "checking private channels (conversations.info)",
    "channels:history": "messages in public intake channels and case threads (message.channels)",
    "groups:history": "messages in private intake channels and case threads (message.groups)",
    "reactions:read": "the ticket reaction that files any message (reaction_added)",
    "users:read.email": "the assignees' and Slack requesters' addresses for notification mails (users.info)",
}

REQUIRED_SCOPES: frozenset[str] = frozenset({s for s in METHOD_SCOPES.values() if s} | set(FEATURE_SCOPES))
