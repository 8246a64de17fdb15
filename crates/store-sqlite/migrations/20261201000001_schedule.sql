-- Schedule changes providers reported (flights cancelled, retimed, added), each applied once
-- (by the event's source and id, in ingested_events), in the order they were reported.
CREATE TABLE schedule_changes (
    id                    INTEGER PRIMARY KEY,
    carrier               TEXT NOT NULL,
    flight_number         INTEGER NOT NULL,
    departure_date        TEXT NOT NULL,
    origin                TEXT NOT NULL,
    destination           TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('cancelled', 'retimed', 'added')),
    departure_at          TEXT NOT NULL,
    arrival_at            TEXT NOT NULL,
    previous_departure_at TEXT,
    fare_minor            INTEGER,
    currency              TEXT,
    seats_left            INTEGER,
    observed_at           TEXT NOT NULL,
    source                TEXT NOT NULL,
    event_id              TEXT NOT NULL
);
CREATE INDEX schedule_changes_flight ON schedule_changes (carrier, flight_number, departure_date, observed_at);
