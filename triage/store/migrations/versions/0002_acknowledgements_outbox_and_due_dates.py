"""acknowledgements outbox and due dates (existing cases get no due date)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 00:17:01.513663
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_acknowledgements_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgements')),
    sa.UniqueConstraint('case_id', 'nonce', name=op.f('uq_acknowledgements_case_id')),
    sa.UniqueConstraint('message_id', name=op.f('uq_acknowledgements_message_id'))
    )
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgements_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_acknowledgements_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_acknowledgements_recipient', ['recipient', 'created_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term', sa.String(length=60), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('due_is_latest', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_cases_due_date'), ['due_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_due_date'))
        batch_op.drop_column('due_is_latest')
        batch_op.drop_column('term')
        batch_op.drop_column('due_date')

    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index('ix_acknowledgements_recipient')
        batch_op.drop_index('ix_acknowledgements_due')
        batch_op.drop_index(batch_op.f('ix_acknowledgements_case_id'))

    op.drop_table('acknowledgements')
