-- Polls with their counts, answers and asked marks, and the campaigns whose
-- question after their event is switched off.

CREATE TABLE polls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    by_broadcast    bigint NOT NULL DEFAULT 0,
    attendance_of   bigint,
    record          jsonb  NOT NULL,
    CONSTRAINT polls_attendance_key UNIQUE (attendance_of)
);

CREATE INDEX polls_broadcast_idx ON polls (by_broadcast, id) WHERE by_broadcast <> 0;

CREATE TABLE poll_counts (
    poll_id bigint    NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    asked   integer   NOT NULL DEFAULT 0,
    options integer[] NOT NULL,
    CONSTRAINT poll_counts_pkey PRIMARY KEY (poll_id)
);

CREATE TABLE poll_answers (
    poll_id     bigint   NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    contact_id  bigint   NOT NULL,
    option      smallint NOT NULL,
    governorate text     NOT NULL DEFAULT '',
    lang        text     NOT NULL DEFAULT '',
    channel     text     NOT NULL DEFAULT '',
    campaigns   bigint[] NOT NULL DEFAULT '{}',
    answer      jsonb    NOT NULL,
    CONSTRAINT poll_answers_pkey PRIMARY KEY (poll_id, contact_id),
    CONSTRAINT poll_answers_option_check CHECK (option >= 0 AND option < 10)
);

CREATE INDEX poll_answers_option_idx ON poll_answers (poll_id, option, contact_id);
CREATE INDEX poll_answers_contact_idx ON poll_answers (contact_id);

CREATE TABLE poll_asked (
    poll_id    bigint      NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    contact_id bigint      NOT NULL,
    at         timestamptz NOT NULL,
    CONSTRAINT poll_asked_pkey PRIMARY KEY (poll_id, contact_id)
);

CREATE TABLE poll_no_follow_up (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    CONSTRAINT poll_no_follow_up_pkey PRIMARY KEY (campaign_id)
);
