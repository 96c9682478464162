-- Triage: the decision of a referral (decline reason, forward target, free text) and the
-- SLA pause while information is requested; the queue's index for due-date ordering.
ALTER TABLE referrals ADD COLUMN decision_reason TEXT;
ALTER TABLE referrals ADD COLUMN decision_note TEXT;
ALTER TABLE referrals ADD COLUMN sla_paused_at TIMESTAMP;
CREATE INDEX referrals_institution_due ON referrals (institution_id, first_response_due_at, id);
CREATE INDEX referrals_due ON referrals (first_response_due_at, id);
