-- Schedule changes providers reported (flights cancelled, retimed, added), each applied once
-- (by the event's source and id, in ingested_events), in the order they were reported.
CREATE TABLE schedule_changes (
    id                    BIGSERIAL PRIMARY KEY,
    carrier               TEXT NOT NULL,
    flight_number         INTEGER NOT NULL,
    departure_date        DATE NOT NULL,
    origin                TEXT NOT NULL,
    destination           TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('cancelled', 'retimed', 'added')),
    departure_at          TIMESTAMPTZ NOT NULL,
    arrival_at            TIMESTAMPTZ NOT NULL,
    previous_departure_at TIMESTAMPTZ,
    fare_minor            BIGINT,
    currency              TEXT,
    seats_left            INTEGER,
    observed_at           TIMESTAMPTZ NOT NULL,
    source                TEXT NOT NULL,
    event_id              TEXT NOT NULL
);
CREATE INDEX schedule_changes_flight ON schedule_changes (carrier, flight_number, departure_date, observed_at);
