"""The service layer: every state change to a ticket goes through here."""
