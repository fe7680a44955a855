"""the procedure after intake: handler, hearing, extension, ending, drafts, merges; letters and
digests in the outbox; users' e-mail addresses

Cases that were `open` become `new` (nobody handled them yet); `closed` was never written.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('handler', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('extensions', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('due_before_extension', sa.Date(), nullable=True))
        batch.add_column(sa.Column('consent_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('hearing', sa.String(length=20), nullable=False, server_default=''))
        batch.add_column(sa.Column('hearing_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('hearing_note', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('judgement', sa.String(length=20), nullable=False, server_default=''))
        batch.add_column(sa.Column('answered_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('on_time', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('ending_note', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('draft', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('merged_into', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('merged_from', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('unread_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch.create_index(batch.f('ix_cases_handler'), ['handler'], unique=False)
        batch.create_foreign_key(batch.f('fk_cases_merged_into_cases'), 'cases', ['merged_into'], ['id'])
    op.execute(sa.text("UPDATE cases SET status = 'new' WHERE status = 'open'"))
    with op.batch_alter_table('acknowledgements') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='ack'))
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(length=320), nullable=True))
    op.create_table('digests',
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['acknowledgements.id'],
                            name=op.f('fk_digests_outbox_id_acknowledgements')),
    sa.PrimaryKeyConstraint('recipient', 'day', name=op.f('pk_digests'))
    )


def downgrade() -> None:
    op.drop_table('digests')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
    op.execute(sa.text("DELETE FROM acknowledgements WHERE case_id IS NULL"))
    with op.batch_alter_table('acknowledgements') as batch:
        batch.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('kind')
    op.execute(sa.text("UPDATE cases SET status = 'open' WHERE status IN ('new', 'in_progress')"))
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint(batch.f('fk_cases_merged_into_cases'), type_='foreignkey')
        batch.drop_index(batch.f('ix_cases_handler'))
        for column in ('version', 'unread_since', 'merged_from', 'merged_into', 'draft', 'ending_note', 'on_time',
                       'ended_on', 'answered_on', 'judgement', 'hearing_note', 'hearing_date', 'hearing',
                       'consent_date', 'due_before_extension', 'extensions', 'handler'):
            batch.drop_column(column)
