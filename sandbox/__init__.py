"""The offline sandbox: the whole desk in a browser with no Slack account.

``python -m bot sandbox`` runs the real bot (``python -m bot run``, a process of its own on
a SQLite file of its own) against the embedded Slack double and local mail servers, and
serves a page on 127.0.0.1 that plays the Slack client for a few people. Nothing here is
used by the bot itself.
"""
