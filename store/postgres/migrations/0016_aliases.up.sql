-- Who a merged contact's ID stands for now, and the share codes of merged
-- contacts, which lead to the contact they were merged into. A share code
-- is unique across both tables: the trigger makes a contact's code and an
-- alias code of another contact collide as the unique constraints do.

CREATE TABLE aliases (
    id         bigint NOT NULL,
    contact_id bigint NOT NULL,
    CONSTRAINT aliases_pkey PRIMARY KEY (id)
);

CREATE INDEX aliases_contact_idx ON aliases (contact_id);

CREATE TABLE ref_aliases (
    code       text   NOT NULL,
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    CONSTRAINT ref_aliases_pkey PRIMARY KEY (code)
);

CREATE INDEX ref_aliases_contact_idx ON ref_aliases (contact_id);

CREATE FUNCTION ref_code_unique() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'contacts' THEN
        IF TG_OP = 'UPDATE' AND NEW.ref_code = OLD.ref_code THEN
            RETURN NEW;
        END IF;
        IF EXISTS (SELECT 1 FROM ref_aliases WHERE code = NEW.ref_code AND contact_id <> NEW.id) THEN
            RAISE EXCEPTION 'share code % is taken', NEW.ref_code
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'contacts_ref_code_key';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM contacts WHERE ref_code = NEW.code AND id <> NEW.contact_id) THEN
        RAISE EXCEPTION 'share code % is taken', NEW.code
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'ref_aliases_pkey';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER contacts_ref_code_unique BEFORE INSERT OR UPDATE OF ref_code ON contacts
    FOR EACH ROW EXECUTE FUNCTION ref_code_unique();

CREATE TRIGGER ref_aliases_code_unique BEFORE INSERT OR UPDATE ON ref_aliases
    FOR EACH ROW EXECUTE FUNCTION ref_code_unique();
