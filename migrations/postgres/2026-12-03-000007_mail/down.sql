ALTER TABLE institutions DROP COLUMN team_email;
ALTER TABLE inquiries DROP COLUMN locale;
ALTER TABLE users DROP COLUMN locale;
DROP TABLE password_resets;
DROP TABLE mail_opt_outs;
DROP TABLE mail_messages;
