ALTER TABLE referrals DROP COLUMN decided_at;
ALTER TABLE referrals DROP COLUMN decision_due_at;
ALTER TABLE institutions DROP COLUMN decision_business_days;
ALTER TABLE institutions DROP COLUMN team_email;
ALTER TABLE inquiries DROP COLUMN locale;
ALTER TABLE users DROP COLUMN locale;
DROP TABLE password_resets;
DROP TABLE mail_opt_outs;
DROP TABLE mail_messages;
