"""The tables of a dltasks store (SQLAlchemy Core, dialect-neutral) and their version.

Timestamps are UTC epoch seconds (``Float``); metadata, labels, weights and filters are JSON
text.  ``SCHEMA_VERSION`` is written into ``dltasks_meta``; :func:`migrate` brings an older
store up to date, so a newer dltasks can open a store an older one wrote.

Versions: 1, the first; 2, annotations indexed by (task_id, item_id, author, label) instead of
(task_id, item_id), so reading a task's votes never visits the table, and assignments by
(task_id, user_id, role, item_id, status) instead of (task_id, user_id, role, status), so a
worker's queue is read in item order from the index; 3, the ``history`` table (every work
action: a replaced label keeps its old value there); 4, quality control: the ``gold_items``,
``gold_answers`` and ``predictions`` tables, and columns for gold, flagging, dynamic overlap,
qualification, the queue order and the seconds an answer took; 5, the catalog version row
(``CATALOG_KEY``), which every write to datasets, tasks and task members moves.
"""
from typing import Any, Callable

import sqlalchemy as sa

__all__ = ["metadata", "SCHEMA_VERSION", "CATALOG_KEY", "migrate", "TABLES"]

SCHEMA_VERSION = 5

#: The ``dltasks_meta`` row counting the changes to the catalog (datasets, tasks and their
#: members: :mod:`dltasks.backends.sql.catalog`); every store of version 5 has it, and every writer
#: of a version 5 store moves it (an older dltasks, which would not, refuses the store).
CATALOG_KEY = "catalog_version"

metadata = sa.MetaData()

meta_table = sa.Table(
    "dltasks_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("labels", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", sa.Float, nullable=False),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset_id", sa.String(32), sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("dir", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("path", sa.Text),
    sa.Column("mime", sa.Text),
    sa.Column("size", sa.BigInteger),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("dataset_id", "filename", name="uq_items_dataset_filename"),
)
# A dataset's items in id order without a sort (to_df, paging, task creation).
sa.Index("ix_items_dataset", items.c.dataset_id, items.c.id)

metadata_keys = sa.Table(
    "metadata_keys",
    metadata,
    sa.Column("dataset_id", sa.String(32), sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.String(512), primary_key=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("created_at", sa.Float, nullable=False),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("dataset_id", sa.String(32), sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("parent_task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="SET NULL")),
    sa.Column("due_date", sa.Float, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("worker_strategy", sa.String(16), nullable=False),
    sa.Column("workers_per_input", sa.Integer, nullable=False),
    sa.Column("weights", sa.Text, nullable=False),
    sa.Column("review_strategy", sa.String(16), nullable=False),
    sa.Column("approval_threshold", sa.Integer),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("available_actions", sa.Text, nullable=False),
    sa.Column("filter", sa.Text),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger),
    sa.Column("show_metadata", sa.Text),  # a JSON list of metadata paths; NULL: the default (HIDDEN_METADATA)
    sa.Column("annotation_type", sa.String(16), nullable=False, server_default="class"),
    sa.Column("iou_threshold", sa.Float, nullable=False, server_default="0.5"),
    sa.Column("unmatched", sa.String(16), nullable=False, server_default="outvoted"),
    sa.Column("gold_rate", sa.Float, nullable=False, server_default="0"),
    sa.Column("min_gold_accuracy", sa.Float),
    sa.Column("min_gold_n", sa.Integer, nullable=False, server_default="3"),
    sa.Column("max_workers", sa.Integer),  # dynamic overlap: the most workers an item gets
    sa.Column("qualification_task_id", sa.String(32)),
    sa.Column("pass_accuracy", sa.Float),  # a qualification task's pass mark
    sa.Column("queue_order", sa.String(16), nullable=False, server_default="item"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("modified_at", sa.Float, nullable=False),
)
sa.Index("ix_tasks_dataset", tasks.c.dataset_id)
# tasks.list pages newest first (created_at DESC, id): read 128 rows in order instead of sorting all.
sa.Index("ix_tasks_created", tasks.c.created_at.desc(), tasks.c.id)

task_members = sa.Table(
    "task_members",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.String(255), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("weight", sa.Float),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("flagged_at", sa.Float),  # a worker flagged by their gold accuracy: their labels leave consensus
)
sa.Index("ix_task_members_user", task_members.c.user_id, task_members.c.role)

annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.Text, nullable=False),  # '' for a text, or a worker's empty answer
    sa.Column("author", sa.String(255), nullable=False),
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE")),
    sa.Column("created_at", sa.Float, nullable=False),
    # class, box, polygon, text, or none (a worker answered an item with nothing: no box, no label)
    sa.Column("kind", sa.String(16), nullable=False, server_default="class"),
    sa.Column("geo", sa.Text),  # JSON: [[left, top], [right, bottom]] for a box, [[x, y], ...] for a polygon
    sa.Column("text", sa.Text),  # a free text
    sa.Column("metadata", sa.Text),  # JSON; NULL: {}
    sa.Column("seconds", sa.Float),  # how long the item was on screen before this answer; NULL: not measured
)
sa.Index("ix_annotations_item", annotations.c.item_id)
# A task's votes in item order, read from the index alone (labels_df, and each submit's
# re-derived status): author and label ride in the index, so no table row is visited.
sa.Index("ix_annotations_task_votes", annotations.c.task_id, annotations.c.item_id, annotations.c.author,
         annotations.c.label)

# Whether a task has measured answers is one seek; the measured ones are read from the index alone.
sa.Index("ix_annotations_task_seconds", annotations.c.task_id, annotations.c.seconds, annotations.c.item_id,
         annotations.c.author)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
# progress() groups a task's rows by user, and a worker's queue reads one user's worker rows in
# item order: both walk this index in order, with item and status read from the index itself.
sa.Index("ix_assignments_user_items", assignments.c.task_id, assignments.c.user_id, assignments.c.role,
         assignments.c.item_id, assignments.c.status)

task_items = sa.Table(
    "task_items",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # the label a reviewer approved the item with (a correction); NULL: the workers' labels stand
    sa.Column("label", sa.Text),
)
# Every view counts a task's items by status (status_counts): read from this index alone, not
# one table row per item (1M items: 0.11 s instead of 0.4-0.6 s).
sa.Index("ix_task_items_status", task_items.c.task_id, task_items.c.status)

history = sa.Table(
    "history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("item_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("at", sa.Float, nullable=False),
)
# A task's history in order, and one item's.
sa.Index("ix_history_task_item", history.c.task_id, history.c.item_id, history.c.id)

# A task's gold items and their known answers (a class label, or a multi_class answer as a sorted
# JSON list).  They are not task items: a worker's answers on them go to gold_answers.
gold_items = sa.Table(
    "gold_items",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("answer", sa.Text, nullable=False),
)

gold_answers = sa.Table(
    "gold_answers",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("seconds", sa.Float),
    sa.Column("at", sa.Float, nullable=False),
)

# A model's predictions on a task's items: shown to workers and ordering queues, never votes.
predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("task_id", sa.String(32), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("model", sa.String(255), primary_key=True),
    sa.Column("label", sa.Text, primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.String(255), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

TABLES = metadata.tables

def _v1_to_v2(conn: sa.Connection) -> None:
    """Version 2 replaces two indexes by covering ones: the old ones go here.

    (The new ``ix_annotations_task_votes`` and ``ix_assignments_user_items`` are made by
    :func:`_create_missing_indexes`.)
    """
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_annotations_task"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_assignments_task_user"))


def _v2_to_v3(conn: sa.Connection) -> None:
    """Version 3 adds the ``history`` table, which :func:`migrate` creates after the migrations."""


def _v3_to_v4(conn: sa.Connection) -> None:
    """Version 4 adds tables and nullable (or defaulted) columns, which :func:`migrate` makes."""


def _add_catalog_row(conn: sa.Connection) -> None:
    """Version 5 adds the catalog version row (a store made by version 5 has it from the start)."""
    if conn.execute(sa.select(meta_table.c.key).where(meta_table.c.key == CATALOG_KEY)).first() is None:
        conn.execute(sa.insert(meta_table).values(key=CATALOG_KEY, value="0"))


#: migrations[v] upgrades a store at version v to v + 1.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4,
                                                          4: _add_catalog_row}


def stored_version(conn: sa.Connection) -> int | None:
    """The schema version written in the store, or ``None`` for a new store."""
    if not sa.inspect(conn).has_table("dltasks_meta"):
        return None
    row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
    return int(row[0]) if row else None


def _missing(conn: sa.Connection) -> tuple[list[sa.Column[Any]], list[sa.Index]]:
    """Columns and indexes of existing tables that the store lacks (added after it was made)."""
    inspector = sa.inspect(conn)
    columns: list[sa.Column[Any]] = []
    indexes: list[sa.Index] = []
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        have_columns = {c["name"] for c in inspector.get_columns(table.name)}
        have_indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
        columns += [column for column in table.columns if column.name not in have_columns]
        indexes += [index for index in table.indexes if index.name not in have_indexes]
    return columns, indexes


def _add_missing_columns(conn: sa.Connection) -> None:
    """Columns added to a table after a store was made: each needs a ``server_default`` (or to be nullable)."""
    preparer = conn.dialect.identifier_preparer
    for column in _missing(conn)[0]:
        ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {preparer.quote(column.table.name)} ADD COLUMN {ddl}"))


def _create_missing_indexes(conn: sa.Connection) -> None:
    """Indexes added to a table after a store was made (create_all only makes new tables)."""
    for index in _missing(conn)[1]:
        index.create(conn)


def is_current(conn: sa.Connection) -> bool:
    """Whether the store has this version's schema, every table, column and index (a read)."""
    if stored_version(conn) != SCHEMA_VERSION:
        return False
    inspector = sa.inspect(conn)
    if any(not inspector.has_table(name) for name in metadata.tables):
        return False
    columns, indexes = _missing(conn)
    return not columns and not indexes


def migrate(conn: sa.Connection) -> int:
    """Create the tables of a new store or upgrade an older one; return the version."""
    version = stored_version(conn)
    if version is None:
        metadata.create_all(conn)
        conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))
        _add_catalog_row(conn)
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        from dltasks.errors import DltasksError

        raise DltasksError(
            f"this store was written by a newer dltasks (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade dltasks"
        )
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
    metadata.create_all(conn)  # new tables of this version
    _add_missing_columns(conn)  # new columns of existing tables: no migration needs writing for them
    _create_missing_indexes(conn)
    conn.execute(
        sa.update(meta_table).where(meta_table.c.key == "schema_version").values(value=str(version))
    )
    return version
