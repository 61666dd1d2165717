-- Conversation state, the bot's settings (the Telegram offset, the kill
-- switch), the platforms' throttles and the marks of handled updates.

CREATE TABLE sessions (
    contact_id bigint NOT NULL,
    record     jsonb  NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (contact_id)
);

CREATE TABLE meta (
    key   text  NOT NULL,
    value jsonb NOT NULL,
    CONSTRAINT meta_pkey PRIMARY KEY (key)
);

CREATE TABLE throttles (
    channel  text   NOT NULL,
    until_ns bigint NOT NULL,
    CONSTRAINT throttles_pkey PRIMARY KEY (channel)
);

CREATE TABLE handled (
    channel text        NOT NULL,
    id      text        NOT NULL,
    at      timestamptz NOT NULL,
    CONSTRAINT handled_pkey PRIMARY KEY (channel, id)
);

CREATE INDEX handled_at_idx ON handled (at);
