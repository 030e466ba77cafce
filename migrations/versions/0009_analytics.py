"""tracking and analytics: the links of each rendered message, every open and click, the unique
actions, and the winners of A/B splits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('message_links',
    sa.Column('message_id', BIGINT, nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_links_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'position', name=op.f('pk_message_links'))
    )

    op.create_table('tracking_hits',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('message_id', BIGINT, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('machine', sa.String(length=40), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_tracking_hits_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_hits'))
    )
    op.create_index('ix_tracking_hits_message_id_kind', 'tracking_hits', ['message_id', 'kind'], unique=False)
    op.create_index('ix_tracking_hits_at', 'tracking_hits', ['at'], unique=False)

    op.create_table('engagements',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('message_id', BIGINT, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', BIGINT, nullable=True),
    sa.Column('node', sa.String(length=64), nullable=True),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('human_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_engagements_enrollment_id_enrollments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_engagements_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements')),
    sa.UniqueConstraint('message_id', 'kind', 'position', name=op.f('uq_engagements_message_id_kind_position'))
    )
    op.create_index(op.f('ix_engagements_enrollment_id'), 'engagements', ['enrollment_id'], unique=False)

    op.create_table('split_winners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=40), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_split_winners_journey_id_journeys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_split_winners')),
    sa.UniqueConstraint('journey_id', 'node', name=op.f('uq_split_winners_journey_id_node'))
    )


def downgrade() -> None:
    op.drop_table('split_winners')
    op.drop_index(op.f('ix_engagements_enrollment_id'), table_name='engagements')
    op.drop_table('engagements')
    op.drop_index('ix_tracking_hits_at', table_name='tracking_hits')
    op.drop_index('ix_tracking_hits_message_id_kind', table_name='tracking_hits')
    op.drop_table('tracking_hits')
    op.drop_table('message_links')
