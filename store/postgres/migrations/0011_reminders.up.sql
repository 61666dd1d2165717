-- Reminders and their due index.

CREATE TABLE reminders (
    id     bigint GENERATED ALWAYS AS IDENTITY,
    due_at bigint,
    record jsonb NOT NULL,
    CONSTRAINT reminders_pkey PRIMARY KEY (id)
);

CREATE INDEX reminders_due_idx ON reminders (due_at, id) WHERE due_at IS NOT NULL;
