"""consent and deliverability: consent records, bounce events, DKIM keys, journey alerts,
erased contacts, suppression details, privacy request outcomes, an append-only audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# Audit entries are never edited. The one UPDATE allowed is a redaction by an erasure, which must
# bump `redactions` (and may change only target and details), or a user's deletion nulling actor_id.
_SQLITE_GUARD = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
FOR EACH ROW WHEN NOT (
    NEW.id = OLD.id AND NEW.action = OLD.action AND NEW.at = OLD.at AND NEW.actor = OLD.actor
    AND (NEW.actor_id IS OLD.actor_id OR NEW.actor_id IS NULL)
    AND (NEW.redactions > OLD.redactions OR (NEW.target = OLD.target AND NEW.details IS OLD.details
                                              AND NEW.redactions = OLD.redactions)))
BEGIN
    SELECT RAISE(ABORT, 'audit_log entries are append-only');
END
"""
_PG_GUARD_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF NEW.id = OLD.id AND NEW.action = OLD.action AND NEW.at = OLD.at AND NEW.actor = OLD.actor
       AND (NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id OR NEW.actor_id IS NULL)
       AND (NEW.redactions > OLD.redactions
            OR (NEW.target = OLD.target AND NEW.details::text IS NOT DISTINCT FROM OLD.details::text
                AND NEW.redactions = OLD.redactions)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log entries are append-only';
END
$$ LANGUAGE plpgsql
"""
_PG_GUARD_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


def upgrade() -> None:
    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('wording', sa.String(length=100), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_records_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    op.create_index(op.f('ix_consent_records_contact_id'), 'consent_records', ['contact_id'], unique=False)

    op.create_table('bounce_events',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('message_id', BIGINT, nullable=True),
    sa.Column('diagnostic', sa.String(length=500), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_bounce_events_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_events')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_bounce_events_dedupe_key'))
    )
    op.create_index('ix_bounce_events_email_hash_kind_received_at', 'bounce_events', ['email_hash', 'kind', 'received_at'], unique=False)
    op.create_index(op.f('ix_bounce_events_message_id'), 'bounce_events', ['message_id'], unique=False)

    op.create_table('dkim_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('selector', sa.String(length=63), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dkim_keys')),
    sa.UniqueConstraint('domain', 'selector', name=op.f('uq_dkim_keys_domain_selector'))
    )

    op.create_table('journey_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_journey_alerts_journey_id_journeys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_alerts'))
    )
    op.create_index(op.f('ix_journey_alerts_journey_id'), 'journey_alerts', ['journey_id'], unique=False)

    op.add_column('contacts', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('privacy_requests', sa.Column('outcome', sa.String(length=500), nullable=True))
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('detail', sa.String(length=500), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_suppressions_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_suppressions_contact_id_contacts'), 'contacts',
                                    ['contact_id'], ['id'], ondelete='SET NULL')

    op.add_column('audit_log', sa.Column('redactions', sa.Integer(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_GUARD_FUNCTION)
        op.execute(_PG_GUARD_TRIGGER)
    else:
        op.execute(_SQLITE_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('redactions')
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suppressions_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_suppressions_contact_id'))
        batch_op.drop_column('detail')
        batch_op.drop_column('contact_id')
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    op.drop_index(op.f('ix_journey_alerts_journey_id'), table_name='journey_alerts')
    op.drop_table('journey_alerts')
    op.drop_table('dkim_keys')
    op.drop_index(op.f('ix_bounce_events_message_id'), table_name='bounce_events')
    op.drop_index('ix_bounce_events_email_hash_kind_received_at', table_name='bounce_events')
    op.drop_table('bounce_events')
    op.drop_index(op.f('ix_consent_records_contact_id'), table_name='consent_records')
    op.drop_table('consent_records')
