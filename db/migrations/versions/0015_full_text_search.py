"""Full-text search over a ticket's title and details, kept in step by the database itself.

- PostgreSQL: ``tickets.search_vector``, a stored generated tsvector (English stemming; the
  title weighted A, the details B) with a GIN index. Generated, so every insert and update
  keeps it right without the service layer's help, and adding it fills it for every ticket.
  The index takes each ticket's words as it is written (no pending list to read through).
- SQLite: ``tickets_fts``, an FTS5 table over the same two columns with the tickets table as
  its external content (the text is stored once), the Porter stemmer, and triggers on
  insert, delete and an update of title or details; a rebuild fills it for existing tickets.

Ticket numbers and reporter ids are matched on their own indexes (primary key, reporter),
and partial words by prefix queries on both, so no trigram index is needed.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(details, '')), 'B')"
)

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE tickets_fts USING fts5("
    "title, details, content='tickets', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, title, details) VALUES (new.id, new.title, new.details); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, title, details) VALUES ('delete', old.id, old.title, old.details); END",
    # Only a change of the indexed text touches the index: status and timestamp updates,
    # by far the most frequent, cost nothing more than before.
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF title, details ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, title, details) VALUES ('delete', old.id, old.title, old.details); "
    "INSERT INTO tickets_fts(rowid, title, details) VALUES (new.id, new.title, new.details); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) STORED")
        # fastupdate off: each ticket's words go into the index as it is written (a few
        # hundred microseconds more per insert), instead of a pending list that every search
        # reads through until vacuum merges it (milliseconds a search, growing with inserts).
        op.execute("CREATE INDEX ix_tickets_search_vector ON tickets USING gin (search_vector) WITH (fastupdate = off)")
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_tickets_search_vector")
        op.execute("ALTER TABLE tickets DROP COLUMN search_vector")
        return
    # IF EXISTS: undoing a later migration may have rebuilt tickets on SQLite (batch mode
    # copies the table), and its triggers went with the old copy.
    for trigger in ("tickets_fts_update", "tickets_fts_delete", "tickets_fts_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE tickets_fts")
