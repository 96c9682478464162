DROP TABLE throttles;
DROP TABLE settings;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE contacts;
DROP TABLE institutions;
