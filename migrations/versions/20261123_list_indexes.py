"""Indexes behind the API's list filters and sort keys that the initial schema lacked.

Filters: station types by ``current_type``, id tags by ``status``. Keyset sorts: the pair
``(sort column, id)`` of connectors, id tags, transactions and sites by ``created_at``, and of
stations by ``name`` across partners (the admin's view), so every page is an index range scan.

Revision ID: 5c1e2b7d9a40
Revises: a61f0c566426
Create Date: 2026-11-23 11:20:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c1e2b7d9a40"
down_revision: str | None = "a61f0c566426"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (index name, table, columns)
INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_station_type_current_type", "station_type", ["current_type"]),
    ("ix_station_name_id", "station", ["name", "id"]),
    ("ix_connector_created_at_id", "connector", ["created_at", "id"]),
    ("ix_id_tag_status", "id_tag", ["status"]),
    ("ix_id_tag_partner_id_created_at_id", "id_tag", ["partner_id", "created_at", "id"]),
    ("ix_transaction_created_at_id", "transaction", ["created_at", "id"]),
    ("ix_site_partner_id_created_at_id", "site", ["partner_id", "created_at", "id"]),
)


def upgrade() -> None:
    """Create the indexes."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop them."""
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
