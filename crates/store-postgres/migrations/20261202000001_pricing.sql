-- Pricing: each flight's latest price (per adult, euro cents) as the price.observed stream
-- tells it, the lowest price on sale per route, departure date and cabin, and that lowest
-- price day by day (the roll-ups history and insights read).
CREATE TABLE pricing_flights (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date DATE NOT NULL,
    cabin          TEXT NOT NULL,
    carrier        TEXT NOT NULL,
    flight_number  INTEGER NOT NULL,
    fare_minor     BIGINT NOT NULL,
    seats_left     INTEGER NOT NULL,
    observed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (origin, destination, departure_date, cabin, carrier, flight_number)
);

CREATE TABLE pricing_routes (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date DATE NOT NULL,
    cabin          TEXT NOT NULL,
    lowest_minor   BIGINT,
    observed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (origin, destination, cabin, departure_date)
);

CREATE TABLE pricing_daily (
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date DATE NOT NULL,
    cabin          TEXT NOT NULL,
    day            DATE NOT NULL,
    low_minor      BIGINT NOT NULL,
    high_minor     BIGINT NOT NULL,
    close_minor    BIGINT NOT NULL,
    close_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (origin, destination, cabin, departure_date, day)
);
CREATE INDEX pricing_daily_departure ON pricing_daily (departure_date);
CREATE INDEX pricing_flights_departure ON pricing_flights (departure_date);
CREATE INDEX pricing_routes_departure ON pricing_routes (departure_date);

-- Raw observations (ingestion appends them) partitioned by month of observed_at, with a BRIN
-- index on it (rows arrive in time order, so block ranges summarise it well) and the route
-- index on each partition. Retention drops whole months. A default partition takes rows of a
-- month not prepared yet; preparing that month moves them into it (PostgresStore).
ALTER TABLE price_observations RENAME TO price_observations_unpartitioned;
ALTER INDEX price_observations_route RENAME TO price_observations_unpartitioned_route;
CREATE TABLE price_observations (
    id             BIGINT NOT NULL DEFAULT nextval('price_observations_id_seq'),
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    departure_date DATE NOT NULL,
    cabin          TEXT NOT NULL,
    carrier        TEXT NOT NULL,
    flight_number  INTEGER NOT NULL,
    fare_minor     BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    seats_left     INTEGER NOT NULL,
    days_before    INTEGER NOT NULL,
    observed_at    TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL,
    event_id       TEXT NOT NULL
) PARTITION BY RANGE (observed_at);
ALTER SEQUENCE price_observations_id_seq OWNED BY price_observations.id;
CREATE TABLE price_observations_default PARTITION OF price_observations DEFAULT;
CREATE INDEX price_observations_route ON price_observations (origin, destination, departure_date, cabin, observed_at);
CREATE INDEX price_observations_time ON price_observations USING brin (observed_at);
INSERT INTO price_observations SELECT * FROM price_observations_unpartitioned;
DROP TABLE price_observations_unpartitioned;
