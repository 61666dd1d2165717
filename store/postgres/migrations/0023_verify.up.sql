-- The codes that prove a call genuine, the latest code of each broadcast
-- or reminder, and the wrong codes asked about from each address.

CREATE TABLE calls (
    code text  NOT NULL,
    call jsonb NOT NULL,
    CONSTRAINT calls_pkey PRIMARY KEY (code)
);

CREATE TABLE latest_calls (
    kind   text   NOT NULL,
    ref_id bigint NOT NULL,
    code   text   NOT NULL REFERENCES calls (code) ON DELETE CASCADE,
    CONSTRAINT latest_calls_pkey PRIMARY KEY (kind, ref_id)
);

CREATE TABLE verify_failures (
    mark  bytea    NOT NULL,
    times bigint[] NOT NULL,
    CONSTRAINT verify_failures_pkey PRIMARY KEY (mark)
);
