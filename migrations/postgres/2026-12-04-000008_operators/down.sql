DROP INDEX IF EXISTS users_contact;
ALTER TABLE users DROP COLUMN contact_id;
ALTER TABLE institutions DROP COLUMN active;
