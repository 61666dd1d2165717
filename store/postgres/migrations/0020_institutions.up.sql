-- Member institutions with their share codes, the people who act for them
-- (the index of the contacts' Affiliations), and their supporters' lists.

CREATE TABLE institutions (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code   text,
    status text  NOT NULL,
    record jsonb NOT NULL,
    CONSTRAINT institutions_code_key UNIQUE (code),
    CONSTRAINT institutions_code_check CHECK (code <> '')
);

CREATE TABLE institution_people (
    institution_id bigint NOT NULL,
    contact_id     bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    affiliation    jsonb  NOT NULL,
    CONSTRAINT institution_people_pkey PRIMARY KEY (institution_id, contact_id)
);

CREATE INDEX institution_people_contact_idx ON institution_people (contact_id);

CREATE TABLE supporters (
    institution_id bigint NOT NULL,
    contact_id     bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    support        jsonb  NOT NULL,
    active         boolean NOT NULL,
    CONSTRAINT supporters_pkey PRIMARY KEY (institution_id, contact_id)
);

CREATE INDEX supporters_contact_idx ON supporters (contact_id);
CREATE INDEX supporters_active_idx ON supporters (institution_id, contact_id) WHERE active;
