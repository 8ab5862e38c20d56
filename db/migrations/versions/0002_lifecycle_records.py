"""lifecycle records

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_manager_id'), ['manager_id'], unique=False)

    op.create_table('approval_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['on_behalf_of_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_steps_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_steps_status'), ['status'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('person', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('capa_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capa_actions_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_capa_actions_owner_id'), ['owner_id'], unique=False)

    op.create_table('containments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('containments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_containments_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('cost_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('charge_back', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cost_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_lines_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('dispositions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_qty', sa.Integer(), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispositions_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('attendee_ids', sa.Text(), nullable=False),
    sa.Column('decisions', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_complaint_id'), ['complaint_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('severity', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('severity_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('validity', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('responsible_department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dispatch_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('customer_ack_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('customer_ack_method', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('on_hold_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sent_back_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('no_investigation_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('no_investigation_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prod_line', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prod_shift', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prod_machine', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prod_operator', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prod_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('prod_lot', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('root_cause_whys', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('root_cause_6m', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('root_cause', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('customer_position', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('proposer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approval_round', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('reply_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reply_method', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reply_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('verify_after', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('verified_effective', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('followup_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('followup_contact', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('followup_notes', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lessons_learned', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('standard_doc', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_complaints_no_investigation_by_id', 'users', ['no_investigation_by_id'], ['id'])
        batch_op.create_foreign_key('fk_complaints_dispatch_approved_by_id', 'users', ['dispatch_approved_by_id'], ['id'])
        batch_op.create_foreign_key('fk_complaints_proposer_id', 'users', ['proposer_id'], ['id'])
        batch_op.create_foreign_key('fk_complaints_merged_into_id', 'complaints', ['merged_into_id'], ['id'])
        batch_op.create_foreign_key('fk_complaints_responsible_department_id', 'departments', ['responsible_department_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint('fk_complaints_no_investigation_by_id', type_='foreignkey')
        batch_op.drop_constraint('fk_complaints_dispatch_approved_by_id', type_='foreignkey')
        batch_op.drop_constraint('fk_complaints_proposer_id', type_='foreignkey')
        batch_op.drop_constraint('fk_complaints_merged_into_id', type_='foreignkey')
        batch_op.drop_constraint('fk_complaints_responsible_department_id', type_='foreignkey')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('standard_doc')
        batch_op.drop_column('lessons_learned')
        batch_op.drop_column('followup_notes')
        batch_op.drop_column('followup_contact')
        batch_op.drop_column('followup_date')
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('satisfaction_score')
        batch_op.drop_column('verified_effective')
        batch_op.drop_column('verify_after')
        batch_op.drop_column('reply_text')
        batch_op.drop_column('reply_method')
        batch_op.drop_column('reply_date')
        batch_op.drop_column('approval_round')
        batch_op.drop_column('proposer_id')
        batch_op.drop_column('customer_position')
        batch_op.drop_column('root_cause')
        batch_op.drop_column('root_cause_6m')
        batch_op.drop_column('root_cause_whys')
        batch_op.drop_column('prod_lot')
        batch_op.drop_column('prod_date')
        batch_op.drop_column('prod_operator')
        batch_op.drop_column('prod_machine')
        batch_op.drop_column('prod_shift')
        batch_op.drop_column('prod_line')
        batch_op.drop_column('no_investigation_by_id')
        batch_op.drop_column('no_investigation_reason')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('sent_back_count')
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('on_hold_since')
        batch_op.drop_column('customer_ack_method')
        batch_op.drop_column('customer_ack_at')
        batch_op.drop_column('dispatch_approved_by_id')
        batch_op.drop_column('responsible_department_id')
        batch_op.drop_column('validity')
        batch_op.drop_column('severity_reason')
        batch_op.drop_column('severity')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_complaint_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispositions_complaint_id'))

    op.drop_table('dispositions')
    with op.batch_alter_table('cost_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_lines_complaint_id'))

    op.drop_table('cost_lines')
    with op.batch_alter_table('containments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_containments_complaint_id'))

    op.drop_table('containments')
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capa_actions_owner_id'))
        batch_op.drop_index(batch_op.f('ix_capa_actions_complaint_id'))

    op.drop_table('capa_actions')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_complaint_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_steps_status'))
        batch_op.drop_index(batch_op.f('ix_approval_steps_complaint_id'))

    op.drop_table('approval_steps')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_manager_id'))

    op.drop_table('delegations')

