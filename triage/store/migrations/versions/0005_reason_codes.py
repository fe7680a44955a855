"""reasons as codes: [[code, {params}], ...] beside the English text of messages, cases and acknowledgements

Rows written before this revision keep an empty list; the review UI shows their English text.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("messages", "reasons"), ("cases", "review_reasons"), ("acknowledgements", "reasons"))


def upgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
