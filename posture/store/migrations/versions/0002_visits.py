"""Visits: one session of a client with up to four photos (one assessment per view).

A new ``visits`` table (date, height, notes, the findings across views) and ``assessments.visit_id``
(nullable: every assessment saved before stays a visit of one view and loads as before).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "client_id", sa.Integer(),
            sa.ForeignKey("clients.id", ondelete="CASCADE", name="fk_visits_client_id"), nullable=False,
        ),
        sa.Column("taken_at", sa.Date(), nullable=False),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("findings_across", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_visits_client_id", "visits", ["client_id"])
    # A plain column added in place (no database foreign key, see models.Assessment.visit_id): on
    # SQLite a foreign key needs the table copied, and dropping the old copy would cascade into the
    # photos.
    op.add_column("assessments", sa.Column("visit_id", sa.Integer(), nullable=True))
    op.create_index("ix_assessments_visit_id", "assessments", ["visit_id"])


def downgrade() -> None:
    op.drop_index("ix_assessments_visit_id", table_name="assessments")
    op.execute("DELETE FROM assessments WHERE visit_id IS NOT NULL")  # photos follow (ON DELETE CASCADE)
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place
        op.execute("ALTER TABLE assessments DROP COLUMN visit_id")
    else:
        op.drop_column("assessments", "visit_id")
    op.drop_index("ix_visits_client_id", table_name="visits")
    op.drop_table("visits")
