"""privacy: cases and messages whose personal data was removed (purged after the retention period
or erased on request) keep an anonymous record; the access log of who opened what

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('anonymised_by', sa.String(length=20), nullable=True))
        batch.create_index(batch.f('ix_cases_anonymised_at'), ['anonymised_at'], unique=False)
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f('ix_messages_purged_at'), ['purged_at'], unique=False)
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user', sa.String(length=100), nullable=False),
        sa.Column('organisation', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('what', sa.String(length=20), nullable=False),
        sa.Column('part', sa.String(length=40), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_access_log_case_id_cases')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_access_log_message_id_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    )
    op.create_index(op.f('ix_access_log_at'), 'access_log', ['at'], unique=False)
    op.create_index(op.f('ix_access_log_case_id'), 'access_log', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_access_log_case_id'), table_name='access_log')
    op.drop_index(op.f('ix_access_log_at'), table_name='access_log')
    op.drop_table('access_log')
    with op.batch_alter_table('messages') as batch:
        batch.drop_index(batch.f('ix_messages_purged_at'))
        batch.drop_column('purged_at')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(batch.f('ix_cases_anonymised_at'))
        batch.drop_column('anonymised_by')
        batch.drop_column('anonymised_at')
