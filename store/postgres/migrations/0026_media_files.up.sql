-- The posters, PDFs and videos themselves, shared by every instance on the
-- database: named by the SHA-256 of their content, written once, never
-- changed. Each instance keeps a copy in its media directory as it needs one.

CREATE TABLE media_files (
    sha256     text        NOT NULL,
    name       text        NOT NULL,
    mime       text        NOT NULL,
    size       bigint      NOT NULL,
    content    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT media_files_pkey PRIMARY KEY (sha256),
    CONSTRAINT media_files_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT media_files_size_check CHECK (size > 0 AND size = octet_length(content))
);

-- JPEG, PNG, PDF and MP4 are compressed already: kept out of line as they
-- are, without a second try at compressing them
ALTER TABLE media_files ALTER COLUMN content SET STORAGE EXTERNAL;
