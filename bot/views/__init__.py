"""Pure functions from data to Block Kit dicts. No I/O here."""
