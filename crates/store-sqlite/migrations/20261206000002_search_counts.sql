-- Search analytics: how often each route was searched each day, from the batches the search
-- service publishes on `search.performed` (each applied once, by its id). `destination` '*'
-- counts explore searches ("anywhere from").
CREATE TABLE search_batches (
    id         TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
);

CREATE TABLE search_counts (
    day         TEXT NOT NULL,
    origin      TEXT NOT NULL,
    destination TEXT NOT NULL,
    searches    INTEGER NOT NULL,
    PRIMARY KEY (day, origin, destination)
) WITHOUT ROWID;
