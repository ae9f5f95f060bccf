"""Slack plumbing under the listeners: the Home tab publisher, the workspace URL."""
