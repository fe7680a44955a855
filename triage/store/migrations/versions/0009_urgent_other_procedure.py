"""cases that report danger (urgent, on top of the review queue) and cases that another procedure
governs (Woo, AVG, bezwaar, ingebrekestelling)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('other_procedure', sa.String(length=20), nullable=True))
        batch.create_index(batch.f('ix_cases_urgent'), ['urgent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(batch.f('ix_cases_urgent'))
        batch.drop_column('other_procedure')
        batch.drop_column('urgent')
