-- Broadcasts and the outbox, claimed by dispatchers with a lease, and the
-- notification that wakes them when entries are queued.

CREATE TABLE broadcasts (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE SEQUENCE outbox_id_seq AS bigint;

CREATE TABLE outbox (
    id           bigint      NOT NULL DEFAULT nextval('outbox_id_seq'),
    channel      text        NOT NULL,
    lane         smallint    NOT NULL,
    broadcast_id bigint      NOT NULL DEFAULT 0,
    counts       boolean     NOT NULL DEFAULT false,
    contact_id   bigint      NOT NULL DEFAULT 0,
    text_ref     text        NOT NULL DEFAULT '',
    entry        jsonb       NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    not_before   timestamptz,
    started      timestamptz,
    last_error   text        NOT NULL DEFAULT '',
    lease_until  timestamptz,
    CONSTRAINT outbox_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_lane_check CHECK (lane IN (0, 1, 2)),
    CONSTRAINT outbox_text_ref_check CHECK (text_ref IN ('', 'ar', 'en')),
    CONSTRAINT outbox_counts_check CHECK (NOT counts OR broadcast_id <> 0)
);

ALTER SEQUENCE outbox_id_seq OWNED BY outbox.id;

CREATE INDEX outbox_lane_idx ON outbox (channel, lane, id);
CREATE INDEX outbox_broadcast_idx ON outbox (broadcast_id, id) WHERE counts;

-- Bulk messages sent per channel and minute, for daily caps; pruned after 48 hours.
CREATE TABLE outbox_sent (
    channel text        NOT NULL,
    minute  timestamptz NOT NULL,
    n       integer     NOT NULL,
    CONSTRAINT outbox_sent_pkey PRIMARY KEY (channel, minute)
);

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ch text;
BEGIN
    FOR ch IN SELECT DISTINCT channel FROM queued WHERE lane <> 2 LOOP
        PERFORM pg_notify('mobilise_outbox', ch);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_queued AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
