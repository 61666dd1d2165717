-- The short-lived codes of /link, the links waiting for confirmation, and
-- what is kept under an address's mark: wrong codes typed, referrals
-- credited.

CREATE TABLE link_codes (
    contact_id bigint      NOT NULL,
    code       text        NOT NULL,
    expires    timestamptz NOT NULL,
    CONSTRAINT link_codes_pkey PRIMARY KEY (contact_id),
    CONSTRAINT link_codes_code_key UNIQUE (code)
);

CREATE INDEX link_codes_expires_idx ON link_codes (expires);

CREATE TABLE pending_links (
    token  text  NOT NULL,
    record jsonb NOT NULL,
    CONSTRAINT pending_links_pkey PRIMARY KEY (token)
);

CREATE TABLE link_failures (
    mark  bytea    NOT NULL,
    times bigint[] NOT NULL,
    CONSTRAINT link_failures_pkey PRIMARY KEY (mark)
);

CREATE TABLE referral_credits (
    mark bytea NOT NULL,
    CONSTRAINT referral_credits_pkey PRIMARY KEY (mark)
);
