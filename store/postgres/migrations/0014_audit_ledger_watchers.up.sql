-- The audit log, the ledger of bulk sends, and the people waiting for a
-- campaign to open.

CREATE TABLE audit (
    id     bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    CONSTRAINT audit_pkey PRIMARY KEY (id)
);

CREATE TABLE bulk_sends (
    seq    bigint GENERATED ALWAYS AS IDENTITY,
    author bigint NOT NULL,
    at_ns  bigint NOT NULL,
    record jsonb  NOT NULL,
    CONSTRAINT bulk_sends_pkey PRIMARY KEY (seq)
);

CREATE INDEX bulk_sends_author_idx ON bulk_sends (author, at_ns, seq);

CREATE TABLE watchers (
    campaign_id bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    CONSTRAINT watchers_pkey PRIMARY KEY (campaign_id, contact_id)
);

CREATE INDEX watchers_contact_idx ON watchers (contact_id);
