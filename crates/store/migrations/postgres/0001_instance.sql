-- Facts about this installation (its id, when it was created).
CREATE TABLE instance_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO instance_meta (key, value) VALUES ('instance_id', md5(random()::text || clock_timestamp()::text));
