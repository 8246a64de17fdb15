-- Pricing: each flight's latest price (per adult, euro cents) as the price.observed stream
-- tells it, the lowest price on sale per route, departure date and cabin, and that lowest
-- price day by day (the roll-ups history and insights read). Raw observations stay in
-- price_observations (ingestion writes them); retention deletes by observed_at.
CREATE TABLE pricing_flights (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date TEXT NOT NULL,
    cabin          TEXT NOT NULL,
    carrier        TEXT NOT NULL,
    flight_number  INTEGER NOT NULL,
    fare_minor     INTEGER NOT NULL,
    seats_left     INTEGER NOT NULL,
    observed_at    TEXT NOT NULL,
    PRIMARY KEY (origin, destination, departure_date, cabin, carrier, flight_number)
) WITHOUT ROWID;

CREATE TABLE pricing_routes (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date TEXT NOT NULL,
    cabin          TEXT NOT NULL,
    lowest_minor   INTEGER,
    observed_at    TEXT NOT NULL,
    PRIMARY KEY (origin, destination, cabin, departure_date)
) WITHOUT ROWID;

CREATE TABLE pricing_daily (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date TEXT NOT NULL,
    cabin          TEXT NOT NULL,
    day            TEXT NOT NULL,
    low_minor      INTEGER NOT NULL,
    high_minor     INTEGER NOT NULL,
    close_minor    INTEGER NOT NULL,
    close_at       TEXT NOT NULL,
    PRIMARY KEY (origin, destination, cabin, departure_date, day)
) WITHOUT ROWID;
CREATE INDEX pricing_daily_departure ON pricing_daily (departure_date);
CREATE INDEX pricing_flights_departure ON pricing_flights (departure_date);
CREATE INDEX pricing_routes_departure ON pricing_routes (departure_date);

CREATE INDEX price_observations_time ON price_observations (observed_at);
