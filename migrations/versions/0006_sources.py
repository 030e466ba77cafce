"""shop sources (Shopify, WooCommerce), their seen deliveries, pending carts, privacy requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('shopify', 'woocommerce', name='sourcekind', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('cart_window_seconds', sa.Integer(), server_default='3600', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_sources_slug'))
    )
    op.create_table('shop_deliveries',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('event_id', BIGINT, nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_shop_deliveries_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_deliveries')),
    sa.UniqueConstraint('source_id', 'delivery_id', name=op.f('uq_shop_deliveries_source_id_delivery_id'))
    )
    op.create_index(op.f('ix_shop_deliveries_received_at'), 'shop_deliveries', ['received_at'], unique=False)
    op.create_table('pending_carts',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('checkout_token', sa.String(length=255), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('contact_external_id', sa.String(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('emitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event_id', BIGINT, nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_pending_carts_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_carts')),
    sa.UniqueConstraint('source_id', 'checkout_token', name=op.f('uq_pending_carts_source_id_checkout_token'))
    )
    op.create_index(op.f('ix_pending_carts_contact_email'), 'pending_carts', ['contact_email'], unique=False)
    op.create_index(op.f('ix_pending_carts_contact_external_id'), 'pending_carts', ['contact_external_id'], unique=False)
    op.create_index('ix_pending_carts_state_due_at', 'pending_carts', ['state', 'due_at'], unique=False)
    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('customer_email', sa.String(length=320), nullable=True),
    sa.Column('customer_external_id', sa.String(length=200), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_privacy_requests_source_id_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    op.create_index(op.f('ix_privacy_requests_customer_email'), 'privacy_requests', ['customer_email'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_privacy_requests_customer_email'), table_name='privacy_requests')
    op.drop_table('privacy_requests')
    op.drop_index('ix_pending_carts_state_due_at', table_name='pending_carts')
    op.drop_index(op.f('ix_pending_carts_contact_external_id'), table_name='pending_carts')
    op.drop_index(op.f('ix_pending_carts_contact_email'), table_name='pending_carts')
    op.drop_table('pending_carts')
    op.drop_index(op.f('ix_shop_deliveries_received_at'), table_name='shop_deliveries')
    op.drop_table('shop_deliveries')
    op.drop_table('sources')
