"""Slack plumbing under the listeners: the Socket Mode connection, the scopes the bot asks for,
the Home tab publisher, direct answers, error reports, the workspace URL."""
