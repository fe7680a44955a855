"""jobs run by workers: who claimed a job and until when, and one queued-or-running job per kind

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
    # A job still 'running' was started in a web process of an earlier version; nothing will ever
    # finish it (and two of them would refuse the index below).
    op.execute(sa.text("UPDATE jobs SET status = 'failed', message = 'afgebroken: het proces is gestopt', "
                       "finished_at = CURRENT_TIMESTAMP WHERE status = 'running'"))
    op.create_index('ux_jobs_active_kind', 'jobs', ['kind'], unique=True, sqlite_where=ACTIVE,
                    postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index('ux_jobs_active_kind', table_name='jobs', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
