-- What the platforms gave back for a file uploaded once, per account.

CREATE TABLE media_uploads (
    account text  NOT NULL,
    sha256  text  NOT NULL,
    upload  jsonb NOT NULL,
    CONSTRAINT media_uploads_pkey PRIMARY KEY (account, sha256),
    CONSTRAINT media_uploads_account_check CHECK (account <> '')
);
