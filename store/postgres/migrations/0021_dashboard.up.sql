-- The web dashboard's one-time sign-in links and signed-in browsers, each
-- under the SHA-256 of its secret.

CREATE TABLE login_tokens (
    hash       bytea       NOT NULL,
    contact_id bigint      NOT NULL,
    token      jsonb       NOT NULL,
    expires    timestamptz NOT NULL,
    CONSTRAINT login_tokens_pkey PRIMARY KEY (hash)
);

CREATE INDEX login_tokens_expires_idx ON login_tokens (expires);
CREATE INDEX login_tokens_contact_idx ON login_tokens (contact_id);

CREATE TABLE web_sessions (
    hash       bytea       NOT NULL,
    contact_id bigint      NOT NULL,
    session    jsonb       NOT NULL,
    expires    timestamptz NOT NULL,
    CONSTRAINT web_sessions_pkey PRIMARY KEY (hash)
);

CREATE INDEX web_sessions_expires_idx ON web_sessions (expires);
CREATE INDEX web_sessions_contact_idx ON web_sessions (contact_id);
