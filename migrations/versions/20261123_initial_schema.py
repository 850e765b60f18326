"""Initial schema: the domain model of SPEC section 3, its cross-table rules, five station types.

Revision ID: a61f0c566426
Revises:
Create Date: 2026-11-23 09:36:49.817584+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# A CHECK cannot read another table, so "connector_number <= plug_count of the station's type"
# is held by triggers on the three tables that can break it. FOR SHARE on the station row makes
# a concurrent type change wait for the connector insert (and the other way round).
TRIGGERS_SQL = [
    """
CREATE FUNCTION connector_within_plug_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plugs integer;
BEGIN
    SELECT st.plug_count INTO plugs
      FROM station s JOIN station_type st ON st.id = s.type_id
     WHERE s.id = NEW.station_id
       FOR SHARE OF s;
    IF plugs IS NOT NULL AND NEW.connector_number > plugs THEN
        RAISE EXCEPTION 'connector_number % exceeds the plug_count (%) of the station type',
            NEW.connector_number, plugs
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_connector_within_plug_count';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER trg_connector_within_plug_count
    BEFORE INSERT OR UPDATE OF connector_number, station_id ON connector
    FOR EACH ROW EXECUTE FUNCTION connector_within_plug_count()
""",
    """
CREATE FUNCTION station_type_fits_connectors() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plugs integer;
BEGIN
    SELECT plug_count INTO plugs FROM station_type WHERE id = NEW.type_id;
    IF plugs IS NOT NULL AND EXISTS (
        SELECT 1 FROM connector WHERE station_id = NEW.id AND connector_number > plugs
    ) THEN
        RAISE EXCEPTION 'the station has connectors beyond the plug_count (%) of the new type', plugs
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_station_type_fits_connectors';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER trg_station_type_fits_connectors
    BEFORE UPDATE OF type_id ON station
    FOR EACH ROW EXECUTE FUNCTION station_type_fits_connectors()
""",
    """
CREATE FUNCTION station_type_plug_count_fits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.plug_count < OLD.plug_count AND EXISTS (
        SELECT 1 FROM connector c JOIN station s ON s.id = c.station_id
         WHERE s.type_id = NEW.id AND c.connector_number > NEW.plug_count
    ) THEN
        RAISE EXCEPTION 'stations of this type have connectors beyond plug_count %', NEW.plug_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_station_type_plug_count_fits';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER trg_station_type_plug_count_fits
    BEFORE UPDATE OF plug_count ON station_type
    FOR EACH ROW EXECUTE FUNCTION station_type_plug_count_fits()
""",
]

SEED_STATION_TYPES = [
    {
        "name": "AC 11 kW single",
        "plug_count": 1,
        "efficiency": 95,
        "current_type": "AC",
        "max_power_kw": 11,
    },
    {
        "name": "AC 22 kW dual",
        "plug_count": 2,
        "efficiency": 95,
        "current_type": "AC",
        "max_power_kw": 22,
    },
    {
        "name": "DC 50 kW",
        "plug_count": 1,
        "efficiency": 94,
        "current_type": "DC",
        "max_power_kw": 50,
    },
    {
        "name": "DC 150 kW dual",
        "plug_count": 2,
        "efficiency": 95,
        "current_type": "DC",
        "max_power_kw": 150,
    },
    {
        "name": "DC 350 kW HPC",
        "plug_count": 2,
        "efficiency": 96,
        "current_type": "DC",
        "max_power_kw": 350,
    },
]

revision: str = "a61f0c566426"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "partner",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(name) >= 1", name=op.f("ck_partner_name_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("name", name=op.f("uq_partner_name")),
    )
    op.create_table(
        "station_type",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("plug_count", sa.Integer(), nullable=False),
        sa.Column("efficiency", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("current_type", sa.String(length=2), nullable=False),
        sa.Column("max_power_kw", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "current_type IN ('AC', 'DC')", name=op.f("ck_station_type_current_type")
        ),
        sa.CheckConstraint(
            "efficiency > 0 AND efficiency <= 100", name=op.f("ck_station_type_efficiency_range")
        ),
        sa.CheckConstraint("max_power_kw > 0", name=op.f("ck_station_type_max_power_positive")),
        sa.CheckConstraint(
            "plug_count BETWEEN 1 AND 16", name=op.f("ck_station_type_plug_count_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_type")),
        sa.UniqueConstraint("name", name=op.f("uq_station_type_name")),
    )
    op.create_table(
        "api_client",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'admin') = (partner_id IS NULL)",
            name=op.f("ck_api_client_partner_unless_admin"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'operator', 'viewer')", name=op.f("ck_api_client_role")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_api_client_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_index(op.f("ix_api_client_partner_id"), "api_client", ["partner_id"], unique=False)
    op.create_table(
        "id_tag",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("value", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="Accepted", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_id_tag", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')", name=op.f("ck_id_tag_status")
        ),
        sa.CheckConstraint("length(value) BETWEEN 1 AND 36", name=op.f("ck_id_tag_value_length")),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_id_tag_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_id_tag")),
    )
    op.create_index("ix_id_tag_value", "id_tag", ["value"], unique=False)
    op.create_index("uq_id_tag_partner_id_value", "id_tag", ["partner_id", "value"], unique=True)
    op.create_table(
        "site",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_site_latitude_range")),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name=op.f("ck_site_longitude_range")),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_site_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    op.create_index("uq_site_partner_id_name", "site", ["partner_id", "name"], unique=True)
    op.create_table(
        "station",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=True),
        sa.Column("site_id", sa.UUID(), nullable=True),
        sa.Column("type_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column(
            "device_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("firmware_version", sa.String(length=50), nullable=True),
        sa.Column("vendor", sa.String(length=50), nullable=True),
        sa.Column("model", sa.String(length=50), nullable=True),
        sa.Column("serial_number", sa.String(length=50), nullable=True),
        sa.Column("ocpp_protocol", sa.String(length=16), nullable=True),
        sa.Column(
            "registration_status", sa.String(length=16), server_default="Accepted", nullable=False
        ),
        sa.Column("online", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "charge_point_id ~ '^[A-Za-z0-9._:-]{1,48}$'",
            name=op.f("ck_station_charge_point_id_format"),
        ),
        sa.CheckConstraint(
            "ocpp_protocol IS NULL OR ocpp_protocol IN ('ocpp1.6', 'ocpp2.0.1')",
            name=op.f("ck_station_ocpp_protocol"),
        ),
        sa.CheckConstraint(
            "partner_id IS NOT NULL OR registration_status = 'Pending'",
            name=op.f("ck_station_partner_unless_pending"),
        ),
        sa.CheckConstraint(
            "registration_status IN ('Accepted', 'Pending', 'Rejected')",
            name=op.f("ck_station_registration"),
        ),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 32", name=op.f("ck_station_name_length")),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_station_partner_id_partner"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_station_site_id_site"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["station_type.id"],
            name=op.f("fk_station_type_id_station_type"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("device_id", name=op.f("uq_station_device_id")),
    )
    op.create_index(
        "ix_station_charge_point_id_trgm",
        "station",
        ["charge_point_id"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"charge_point_id": "gin_trgm_ops"},
    )
    op.create_index("ix_station_created_at_id", "station", ["created_at", "id"], unique=False)
    op.create_index("ix_station_firmware_version", "station", ["firmware_version"], unique=False)
    op.create_index(
        "ix_station_name_trgm",
        "station",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index("ix_station_online", "station", ["online"], unique=False)
    op.create_index(
        "ix_station_partner_id_created_at_id",
        "station",
        ["partner_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(op.f("ix_station_site_id"), "station", ["site_id"], unique=False)
    op.create_index(op.f("ix_station_type_id"), "station", ["type_id"], unique=False)
    op.create_index(
        "uq_station_charge_point_id_live",
        "station",
        ["charge_point_id"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_station_partner_id_name_live",
        "station",
        ["partner_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "command",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("queued", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'failed', 'timed_out')",
            name=op.f("ck_command_status"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
            name=op.f("fk_command_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_command")),
    )
    op.create_index(
        "ix_command_pending",
        "command",
        ["station_id", "requested_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_command_station_id_requested_at",
        "command",
        ["station_id", "requested_at", "id"],
        unique=False,
    )
    op.create_table(
        "connector",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("connector_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("priority", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IS NULL OR status IN ('Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Reserved', 'Unavailable', 'Faulted', 'Occupied')",
            name=op.f("ck_connector_status"),
        ),
        sa.CheckConstraint(
            "connector_number >= 1", name=op.f("ck_connector_connector_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
            name=op.f("fk_connector_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector")),
    )
    op.create_index("ix_connector_status", "connector", ["status"], unique=False)
    op.create_index(
        "uq_connector_station_id_connector_number",
        "connector",
        ["station_id", "connector_number"],
        unique=True,
    )
    op.create_index(
        "uq_connector_station_id_priority",
        "connector",
        ["station_id"],
        unique=True,
        postgresql_where=sa.text("priority"),
    )
    op.create_table(
        "transaction",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("connector_number", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meter_start_wh", sa.Double(), nullable=True),
        sa.Column("meter_stop_wh", sa.Double(), nullable=True),
        sa.Column("energy_wh", sa.Double(), nullable=True),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("id_tag_status", sa.String(length=16), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "stopped_at IS NULL OR stopped_at >= started_at - interval '1 day'",
            name=op.f("ck_transaction_stop_after_start"),
        ),
        sa.CheckConstraint(
            "connector_number >= 0", name=op.f("ck_transaction_connector_number_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
            name=op.f("fk_transaction_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction")),
    )
    op.create_index(
        "ix_transaction_active",
        "transaction",
        ["station_id", "connector_number"],
        unique=False,
        postgresql_where=sa.text("stopped_at IS NULL"),
    )
    op.create_index("ix_transaction_id_tag", "transaction", ["id_tag"], unique=False)
    op.create_index(
        "ix_transaction_started_at_id", "transaction", ["started_at", "id"], unique=False
    )
    op.create_index(
        "ix_transaction_station_id_started_at",
        "transaction",
        ["station_id", "started_at"],
        unique=False,
    )
    op.create_index(
        "uq_transaction_station_id_transaction_id",
        "transaction",
        ["station_id", "transaction_id"],
        unique=True,
    )
    op.create_table(
        "meter_value",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.UUID(), nullable=False),
        sa.Column("connector_number", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=True),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("context", sa.String(length=32), nullable=True),
        sa.Column("location", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
            name=op.f("fk_meter_value_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction.id"],
            name=op.f("fk_meter_value_transaction_id_transaction"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_value")),
    )
    op.create_index(
        "ix_meter_value_station_id_time", "meter_value", ["station_id", "time"], unique=False
    )
    op.create_index(
        "ix_meter_value_time_brin", "meter_value", ["time"], unique=False, postgresql_using="brin"
    )
    op.create_index(
        "ix_meter_value_transaction_id", "meter_value", ["transaction_id"], unique=False
    )
    for statement in TRIGGERS_SQL:
        op.execute(statement)
    station_type = sa.table(
        "station_type",
        sa.column("name", sa.String),
        sa.column("plug_count", sa.Integer),
        sa.column("efficiency", sa.Numeric),
        sa.column("current_type", sa.String),
        sa.column("max_power_kw", sa.Numeric),
    )
    op.bulk_insert(station_type, SEED_STATION_TYPES)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_station_type_plug_count_fits ON station_type")
    op.execute("DROP TRIGGER IF EXISTS trg_station_type_fits_connectors ON station")
    op.execute("DROP TRIGGER IF EXISTS trg_connector_within_plug_count ON connector")
    op.execute("DROP FUNCTION IF EXISTS station_type_plug_count_fits()")
    op.execute("DROP FUNCTION IF EXISTS station_type_fits_connectors()")
    op.execute("DROP FUNCTION IF EXISTS connector_within_plug_count()")
    op.drop_index("ix_meter_value_transaction_id", table_name="meter_value")
    op.drop_index("ix_meter_value_time_brin", table_name="meter_value", postgresql_using="brin")
    op.drop_index("ix_meter_value_station_id_time", table_name="meter_value")
    op.drop_table("meter_value")
    op.drop_index("uq_transaction_station_id_transaction_id", table_name="transaction")
    op.drop_index("ix_transaction_station_id_started_at", table_name="transaction")
    op.drop_index("ix_transaction_started_at_id", table_name="transaction")
    op.drop_index("ix_transaction_id_tag", table_name="transaction")
    op.drop_index(
        "ix_transaction_active",
        table_name="transaction",
        postgresql_where=sa.text("stopped_at IS NULL"),
    )
    op.drop_table("transaction")
    op.drop_index(
        "uq_connector_station_id_priority",
        table_name="connector",
        postgresql_where=sa.text("priority"),
    )
    op.drop_index("uq_connector_station_id_connector_number", table_name="connector")
    op.drop_index("ix_connector_status", table_name="connector")
    op.drop_table("connector")
    op.drop_index("ix_command_station_id_requested_at", table_name="command")
    op.drop_index(
        "ix_command_pending", table_name="command", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_table("command")
    op.drop_index(
        "uq_station_partner_id_name_live",
        table_name="station",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "uq_station_charge_point_id_live",
        table_name="station",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_station_type_id"), table_name="station")
    op.drop_index(op.f("ix_station_site_id"), table_name="station")
    op.drop_index("ix_station_partner_id_created_at_id", table_name="station")
    op.drop_index("ix_station_online", table_name="station")
    op.drop_index(
        "ix_station_name_trgm",
        table_name="station",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_index("ix_station_firmware_version", table_name="station")
    op.drop_index("ix_station_created_at_id", table_name="station")
    op.drop_index(
        "ix_station_charge_point_id_trgm",
        table_name="station",
        postgresql_using="gin",
        postgresql_ops={"charge_point_id": "gin_trgm_ops"},
    )
    op.drop_table("station")
    op.drop_index("uq_site_partner_id_name", table_name="site")
    op.drop_table("site")
    op.drop_index("uq_id_tag_partner_id_value", table_name="id_tag")
    op.drop_index("ix_id_tag_value", table_name="id_tag")
    op.drop_table("id_tag")
    op.drop_index(op.f("ix_api_client_partner_id"), table_name="api_client")
    op.drop_table("api_client")
    op.drop_table("station_type")
    op.drop_table("partner")
