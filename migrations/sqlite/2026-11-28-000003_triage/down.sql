DROP INDEX referrals_due;
DROP INDEX referrals_institution_due;
ALTER TABLE referrals DROP COLUMN sla_paused_at;
ALTER TABLE referrals DROP COLUMN decision_note;
ALTER TABLE referrals DROP COLUMN decision_reason;
