-- Queue pages at scale (bench/queue_at_scale.sh): newest first within an institution, and the
-- overdue filter, which only ever looks at referrals still waiting for a first response.
CREATE INDEX referrals_institution_id ON referrals (institution_id, id);
CREATE INDEX referrals_awaiting_first_response ON referrals (institution_id, first_response_due_at, id)
    WHERE first_responded_at IS NULL;
