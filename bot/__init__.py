"""Casedesk: a Slack-native ticket and case desk."""
