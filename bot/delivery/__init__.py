"""The one road out: the sender that relays outbox rows to Slack, paced, retried, exactly once."""
