"""users belong to organisations: a membership table and an "all organisations" flag

Accounts that exist before this revision saw every organisation's cases; they keep doing so
(`all_organisations` true) until an administrator gives them memberships. Accounts added later
see only the organisations they are given (administrators always see all).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('all_organisations', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE users SET all_organisations = :yes").bindparams(yes=True))
    op.create_table('user_organisations',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_organisations_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'organisation', name=op.f('pk_user_organisations'))
    )


def downgrade() -> None:
    op.drop_table('user_organisations')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('all_organisations')
