-- The poll answers of people who asked to be forgotten, kept without them
-- (the option, its time and the institution credited) so a poll's counts
-- stay exact, as forgotten_pledges keeps their pledges.

CREATE TABLE forgotten_poll_answers (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    poll_id     bigint      NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    option      smallint    NOT NULL,
    at          timestamptz NOT NULL,
    institution bigint      NOT NULL DEFAULT 0,
    CONSTRAINT forgotten_poll_answers_pkey PRIMARY KEY (id),
    CONSTRAINT forgotten_poll_answers_option_check CHECK (option >= 0 AND option < 10)
);

CREATE INDEX forgotten_poll_answers_option_idx ON forgotten_poll_answers (poll_id, option, id);

-- People forgotten before: their answers, which kept their contact ID and
-- details, become anonymous, and the marks that they were asked go. A
-- contact ID that is neither a contact nor an alias of one is a person
-- forgotten.
WITH gone AS (
    DELETE FROM poll_answers a
    WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.contact_id)
      AND NOT EXISTS (SELECT 1 FROM aliases l JOIN contacts c ON c.id = l.contact_id WHERE l.id = a.contact_id)
    RETURNING a.poll_id, a.option, a.contact_id, a.answer
)
INSERT INTO forgotten_poll_answers (poll_id, option, at, institution)
    SELECT poll_id, option, (answer->>'at')::timestamptz, coalesce((answer->>'institution')::bigint, 0)
    FROM gone ORDER BY poll_id, contact_id;

DELETE FROM poll_asked a
WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.contact_id)
  AND NOT EXISTS (SELECT 1 FROM aliases l JOIN contacts c ON c.id = l.contact_id WHERE l.id = a.contact_id);
