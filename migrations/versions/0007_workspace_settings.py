"""workspace settings: one row per key, a JSON value, who changed it last

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workspace_settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_workspace_settings'))
    )


def downgrade() -> None:
    op.drop_table('workspace_settings')
