-- People, their addresses, campaigns and pledges, with the counters that
-- move in the same transaction as the pledges.

CREATE TABLE contacts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref_code          text        NOT NULL,
    record            jsonb       NOT NULL,
    reachable         boolean     NOT NULL,
    preferred_channel text        NOT NULL DEFAULT '',
    reach_channels    text[]      NOT NULL DEFAULT '{}',
    governorate       text        NOT NULL DEFAULT '',
    lang              text        NOT NULL DEFAULT 'ar',
    member            boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    CONSTRAINT contacts_ref_code_key UNIQUE (ref_code),
    CONSTRAINT contacts_lang_check CHECK (lang IN ('ar', 'en'))
);

-- The audiences: each index holds the reachable people of a segment with
-- their reach signature, so counting an audience reads one index only.
CREATE INDEX contacts_reach_idx ON contacts (id) INCLUDE (preferred_channel, reach_channels) WHERE reachable;
CREATE INDEX contacts_governorate_idx ON contacts (governorate) INCLUDE (preferred_channel, reach_channels) WHERE reachable;
CREATE INDEX contacts_lang_idx ON contacts (lang) INCLUDE (preferred_channel, reach_channels) WHERE reachable;
CREATE INDEX contacts_member_idx ON contacts (id) INCLUDE (preferred_channel, reach_channels) WHERE reachable AND member;

CREATE TABLE addresses (
    address    text   NOT NULL,
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    CONSTRAINT addresses_pkey PRIMARY KEY (address)
);

CREATE INDEX addresses_contact_idx ON addresses (contact_id);

CREATE TABLE campaigns (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code   text  NOT NULL,
    record jsonb NOT NULL,
    CONSTRAINT campaigns_code_key UNIQUE (code)
);

CREATE TABLE campaign_counts (
    campaign_id bigint  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pledges     integer NOT NULL DEFAULT 0,
    signups     integer NOT NULL DEFAULT 0,
    CONSTRAINT campaign_counts_pkey PRIMARY KEY (campaign_id)
);

CREATE TABLE pledges (
    campaign_id bigint      NOT NULL REFERENCES campaigns (id),
    contact_id  bigint      NOT NULL REFERENCES contacts (id),
    at          timestamptz NOT NULL,
    channel     text        NOT NULL DEFAULT '',
    governorate text        NOT NULL DEFAULT '',
    lang        text        NOT NULL DEFAULT '',
    referred_by bigint      NOT NULL DEFAULT 0,
    institution bigint      NOT NULL DEFAULT 0,
    CONSTRAINT pledges_pkey PRIMARY KEY (campaign_id, contact_id)
);

CREATE INDEX pledges_contact_idx ON pledges (contact_id);
