-- Facts about this installation (its id, when it was created).
CREATE TABLE instance_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO instance_meta (key, value) VALUES ('instance_id', lower(hex(randomblob(16))));
