-- Sign-ups for campaigns' events, and the pledges of people who asked to
-- be forgotten, kept without them so totals stay exact.

CREATE TABLE signups (
    campaign_id bigint      NOT NULL REFERENCES campaigns (id),
    contact_id  bigint      NOT NULL REFERENCES contacts (id),
    at          timestamptz NOT NULL,
    channel     text        NOT NULL DEFAULT '',
    governorate text        NOT NULL DEFAULT '',
    lang        text        NOT NULL DEFAULT '',
    referred_by bigint      NOT NULL DEFAULT 0,
    institution bigint      NOT NULL DEFAULT 0,
    CONSTRAINT signups_pkey PRIMARY KEY (campaign_id, contact_id)
);

CREATE INDEX signups_contact_idx ON signups (contact_id);

CREATE TABLE forgotten_pledges (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    campaign_id bigint      NOT NULL REFERENCES campaigns (id),
    at          timestamptz NOT NULL,
    institution bigint      NOT NULL DEFAULT 0,
    CONSTRAINT forgotten_pledges_pkey PRIMARY KEY (id)
);

CREATE INDEX forgotten_pledges_campaign_idx ON forgotten_pledges (campaign_id, id);
