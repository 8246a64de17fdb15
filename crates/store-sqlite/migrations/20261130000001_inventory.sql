-- Ingestion: the events applied (each once), each flight's current fare and seats per cabin,
-- and the append-only price observations pricing builds on.
CREATE TABLE ingested_events (
    source     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (source, event_id)
) WITHOUT ROWID;

CREATE TABLE flight_fares (
    carrier        TEXT NOT NULL,
    flight_number  INTEGER NOT NULL,
    departure_date TEXT NOT NULL,
    cabin          TEXT NOT NULL,
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    fare_minor     INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    seats_left     INTEGER NOT NULL,
    departure_at   TEXT NOT NULL,
    observed_at    TEXT NOT NULL,
    PRIMARY KEY (carrier, flight_number, departure_date, cabin)
) WITHOUT ROWID;

CREATE TABLE price_observations (
    id             INTEGER PRIMARY KEY,
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date TEXT NOT NULL,
    cabin          TEXT NOT NULL,
    carrier        TEXT NOT NULL,
    flight_number  INTEGER NOT NULL,
    fare_minor     INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    seats_left     INTEGER NOT NULL,
    days_before    INTEGER NOT NULL,
    observed_at    TEXT NOT NULL,
    source         TEXT NOT NULL,
    event_id       TEXT NOT NULL
);
CREATE INDEX price_observations_route ON price_observations (origin, destination, departure_date, cabin, observed_at);
