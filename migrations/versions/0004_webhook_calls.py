"""webhook calls ledger and the allow-list of hosts webhook nodes may call

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=255), nullable=False),
    sa.Column('added_by', sa.String(length=320), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_hosts')),
    sa.UniqueConstraint('pattern', name=op.f('uq_webhook_hosts_pattern'))
    )
    op.create_table('webhook_calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_webhook_calls_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_webhook_calls_enrollment_id_enrollments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_calls')),
    sa.UniqueConstraint('key', name=op.f('uq_webhook_calls_key'))
    )
    with op.batch_alter_table('webhook_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_calls_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_index('ix_webhook_calls_status_next_attempt', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_calls_status_next_attempt')
        batch_op.drop_index(batch_op.f('ix_webhook_calls_enrollment_id'))

    op.drop_table('webhook_calls')
    op.drop_table('webhook_hosts')
