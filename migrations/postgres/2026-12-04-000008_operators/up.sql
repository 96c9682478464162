-- Institutions are data: operators add, edit and deactivate them. A deactivated institution
-- keeps its history and its open referrals; routing skips it and says why.
ALTER TABLE institutions ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

-- The `assigned=me` link between an account and a contact of its institution is explicit.
-- Existing accounts keep the link they had implicitly (the contact with the same e-mail).
ALTER TABLE users ADD COLUMN contact_id TEXT REFERENCES contacts (id);
UPDATE users SET contact_id = (
    SELECT c.id FROM contacts c
    WHERE c.institution_id = users.institution_id AND c.email = users.email
    LIMIT 1
) WHERE institution_id IS NOT NULL;
-- One account per contact.
CREATE UNIQUE INDEX users_contact ON users (contact_id) WHERE contact_id IS NOT NULL;
