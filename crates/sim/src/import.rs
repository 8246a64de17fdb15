//! Schedule import: IATA SSIM chapter 7 (flight leg records, type 3) and a documented CSV.
//!
//! Both produce dated legs with UTC times; legs without fares get them from the same fare
//! model as the simulated world, so an imported schedule is searchable like the demo world.
//! Errors name the line and the field; the importer reports every bad record, not just the first.
//!
//! CSV columns (header required, times local at the airport, fares in EUR, optional):
//! `carrier,flight,origin,destination,date,departure,arrival,arrival_day_offset,aircraft,
//! economy,premium_economy,business,first`
//! e.g. `BA,117,LHR,JFK,2026-12-18,08:25,11:20,0,777,489.00,,1890.00,`

use crate::fares::{self, FareInputs};
use crate::rng::{code3, unit};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use spontra_domain::{great_circle_km, utc_minute, AirportCode, CarrierCode, UtcMinute};
use spontra_engine::{CarrierSpec, Index, LegInput};
use spontra_refdata::RefData;
use std::collections::HashMap;

/// One bad record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, field {field}: {message}")]
pub struct ImportError {
    pub line: usize,
    pub field: &'static str,
    pub message: String,
}

/// A dated leg read from a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleLeg {
    pub carrier: CarrierCode,
    pub flight_number: u16,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure: UtcMinute,
    pub arrival: UtcMinute,
    pub aircraft: String,
    /// Seats per cabin (economy, premium economy, business, first); 0 where not sold.
    pub seats: [u16; 4],
    /// Per-adult fares in euro cents, where the schedule gives them.
    pub fares: [Option<u64>; 4],
}

/// What an import read.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub legs: Vec<ScheduleLeg>,
    pub records: usize,
    pub errors: Vec<ImportError>,
}

/// Errors kept per import (the count of records still covers them all).
const MAX_ERRORS: usize = 1000;

impl ImportReport {
    fn add(&mut self, record: Result<Vec<ScheduleLeg>, ImportError>) {
        match record {
            Ok(legs) => self.legs.extend(legs),
            Err(e) if self.errors.len() < MAX_ERRORS => self.errors.push(e),
            Err(_) => {}
        }
    }
}

fn err(line: usize, field: &'static str, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        field,
        message: message.into(),
    }
}

fn airport(
    refdata: &RefData,
    line: usize,
    field: &'static str,
    s: &str,
) -> Result<AirportCode, ImportError> {
    let code = AirportCode::parse(s)
        .map_err(|_| err(line, field, format!("{s:?} is not an airport code")))?;
    refdata
        .airport(code)
        .map(|a| a.code)
        .ok_or_else(|| err(line, field, format!("unknown airport {code}")))
}

fn ssim_date(line: usize, field: &'static str, s: &str) -> Result<NaiveDate, ImportError> {
    NaiveDate::parse_from_str(&s.to_ascii_uppercase(), "%d%b%y")
        .map_err(|_| err(line, field, format!("{s:?} is not a DDMMMYY date")))
}

fn hhmm(line: usize, field: &'static str, s: &str) -> Result<i64, ImportError> {
    let bad = || err(line, field, format!("{s:?} is not a HHMM time"));
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (
        s[..2].parse().map_err(|_| bad())?,
        s[2..].parse().map_err(|_| bad())?,
    );
    if h > 24 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn utc_variation(line: usize, field: &'static str, s: &str) -> Result<i64, ImportError> {
    let bad = || err(line, field, format!("{s:?} is not a ±HHMM UTC variation"));
    let sign = match s.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(bad()),
    };
    Ok(sign * hhmm(line, field, &s[1..]).map_err(|_| bad())?)
}

fn date_variation(line: usize, field: &'static str, c: char) -> Result<i64, ImportError> {
    match c {
        ' ' | '0' => Ok(0),
        '1' => Ok(1),
        '2' => Ok(2),
        'A' => Ok(-1),
        _ => Err(err(
            line,
            field,
            format!("{c:?} is not a date variation (0, 1, 2 or A)"),
        )),
    }
}

/// Cabin of a booking-class letter (SSIM PRBD).
fn cabin_of(class: char) -> usize {
    match class {
        'F' | 'A' | 'P' | 'R' => 3,
        'J' | 'C' | 'D' | 'I' | 'Z' => 2,
        'W' | 'E' => 1,
        _ => 0,
    }
}

/// Seats per cabin from an aircraft configuration like `J30W21Y240`.
fn configuration(s: &str) -> Option<[u16; 4]> {
    let mut seats = [0u16; 4];
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        let mut n = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(*d);
            chars.next();
        }
        seats[cabin_of(c)] += n.parse::<u16>().ok()?;
        any = true;
    }
    any.then_some(seats)
}

/// Parse SSIM chapter 7 text. Record types other than 3 are skipped; every type 3 record is
/// validated field by field and expanded to dated legs within `[first, last]`.
pub fn parse_ssim(
    refdata: &RefData,
    text: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> ImportReport {
    let mut report = ImportReport::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if !raw.starts_with('3') {
            continue;
        }
        report.records += 1;
        report.add(ssim_record(refdata, line, raw, first, last));
    }
    report
}

fn ssim_record(
    refdata: &RefData,
    line: usize,
    raw: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<ScheduleLeg>, ImportError> {
    if !raw.is_ascii() {
        return Err(err(line, "record", "SSIM records are ASCII"));
    }
    if raw.len() < 200 {
        return Err(err(
            line,
            "record",
            format!(
                "a type 3 record is 200 characters, this one has {}",
                raw.len()
            ),
        ));
    }
    let f = |a: usize, b: usize| &raw[a - 1..b];
    let carrier_s = f(3, 5).trim();
    let carrier = CarrierCode::parse(carrier_s).map_err(|_| {
        err(
            line,
            "airline designator (3-5)",
            format!("{carrier_s:?} is not a two-character airline code"),
        )
    })?;
    let flight_s = f(6, 9).trim();
    let flight_number: u16 = flight_s
        .parse()
        .ok()
        .filter(|n| (1..=9999).contains(n))
        .ok_or_else(|| {
            err(
                line,
                "flight number (6-9)",
                format!("{flight_s:?} is not a flight number"),
            )
        })?;
    let from = ssim_date(line, "period of operation from (15-21)", f(15, 21))?;
    let to_s = f(22, 28);
    let to = if to_s == "00XXX00" {
        last
    } else {
        ssim_date(line, "period of operation to (22-28)", to_s)?
    };
    if to < from {
        return Err(err(
            line,
            "period of operation to (22-28)",
            format!("{to} is before {from}"),
        ));
    }
    let days_s = f(29, 35);
    let mut days = [false; 7];
    for (k, c) in days_s.chars().enumerate() {
        match c {
            ' ' => {}
            d if d == char::from(b'1' + k as u8) => days[k] = true,
            _ => {
                return Err(err(
                    line,
                    "days of operation (29-35)",
                    format!("{days_s:?}: day {} must be {} or blank", k + 1, k + 1),
                ))
            }
        }
    }
    if !days.iter().any(|d| *d) {
        return Err(err(
            line,
            "days of operation (29-35)",
            "no day of operation",
        ));
    }
    let fortnightly = match f(36, 36) {
        " " | "1" => false,
        "2" => true,
        other => {
            return Err(err(
                line,
                "frequency rate (36)",
                format!("{other:?} is not 1, 2 or blank"),
            ))
        }
    };
    let origin = airport(refdata, line, "departure station (37-39)", f(37, 39))?;
    let std = hhmm(line, "passenger STD (40-43)", f(40, 43))?;
    let dep_var = utc_variation(line, "UTC/local variation departure (48-52)", f(48, 52))?;
    let destination = airport(refdata, line, "arrival station (55-57)", f(55, 57))?;
    if origin == destination {
        return Err(err(
            line,
            "arrival station (55-57)",
            "same as the departure station",
        ));
    }
    let sta = hhmm(line, "passenger STA (62-65)", f(62, 65))?;
    let arr_var = utc_variation(line, "UTC/local variation arrival (66-70)", f(66, 70))?;
    let aircraft = f(73, 75).trim().to_string();
    let prbd = f(76, 95).trim();
    let mut seats = configuration(f(173, 192)).unwrap_or([0; 4]);
    if seats == [0; 4] {
        seats[0] = 150;
        for c in prbd.chars().filter(char::is_ascii_alphabetic) {
            let cabin = cabin_of(c);
            if cabin > 0 && seats[cabin] == 0 {
                seats[cabin] = [0, 24, 30, 8][cabin];
            }
        }
    }
    let dep_day_var = date_variation(
        line,
        "date variation (193)",
        f(193, 193).chars().next().unwrap_or(' '),
    )?;
    let arr_day_var = date_variation(
        line,
        "date variation (194)",
        f(194, 194).chars().next().unwrap_or(' '),
    )?;
    let mut legs = vec![];
    let mut d = from.max(first - Days::new(2));
    while d <= to.min(last) {
        let week = (d - from).num_days() / 7;
        if days[d.weekday().num_days_from_monday() as usize] && !(fortnightly && week % 2 == 1) {
            let departure = utc_minute(d, std + dep_day_var * 1440) - dep_var;
            let arrival = utc_minute(d, sta + arr_day_var * 1440) - arr_var;
            if arrival <= departure {
                return Err(err(line, "passenger STA (62-65)", "arrives before it departs (check the times, UTC variations and date variation)"));
            }
            legs.push(ScheduleLeg {
                carrier,
                flight_number,
                origin,
                destination,
                departure,
                arrival,
                aircraft: aircraft.clone(),
                seats,
                fares: [None; 4],
            });
        }
        d = d + Days::new(1);
    }
    Ok(legs)
}

/// Parse the documented CSV format.
pub fn parse_csv(refdata: &RefData, text: &str) -> ImportReport {
    let mut report = ImportReport::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    const COLUMNS: [&str; 13] = [
        "carrier",
        "flight",
        "origin",
        "destination",
        "date",
        "departure",
        "arrival",
        "arrival_day_offset",
        "aircraft",
        "economy",
        "premium_economy",
        "business",
        "first",
    ];
    match reader.headers() {
        Ok(h) if h.iter().map(str::trim).eq(COLUMNS.iter().copied()) => {}
        _ => {
            report.errors.push(err(
                1,
                "header",
                format!("expected the header {}", COLUMNS.join(",")),
            ));
            return report;
        }
    }
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        report.records += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                report.add(Err(err(line, "record", e.to_string())));
                continue;
            }
        };
        report.add(csv_record(refdata, line, &rec).map(|leg| vec![leg]));
    }
    report
}

fn csv_record(
    refdata: &RefData,
    line: usize,
    rec: &csv::StringRecord,
) -> Result<ScheduleLeg, ImportError> {
    if rec.len() != 13 {
        return Err(err(
            line,
            "record",
            format!("expected 13 fields, found {}", rec.len()),
        ));
    }
    let g = |i: usize| rec.get(i).unwrap_or("").trim();
    let carrier = CarrierCode::parse(g(0)).map_err(|_| {
        err(
            line,
            "carrier",
            format!("{:?} is not a two-character airline code", g(0)),
        )
    })?;
    let flight_number: u16 = g(1)
        .parse()
        .ok()
        .filter(|n| (1..=9999).contains(n))
        .ok_or_else(|| {
            err(
                line,
                "flight",
                format!("{:?} is not a flight number (1-9999)", g(1)),
            )
        })?;
    let origin = airport(refdata, line, "origin", g(2))?;
    let destination = airport(refdata, line, "destination", g(3))?;
    if origin == destination {
        return Err(err(line, "destination", "same as the origin"));
    }
    let date = NaiveDate::parse_from_str(g(4), "%Y-%m-%d")
        .map_err(|_| err(line, "date", format!("{:?} is not YYYY-MM-DD", g(4))))?;
    let time = |field: &'static str, s: &str| {
        NaiveTime::parse_from_str(s, "%H:%M")
            .map_err(|_| err(line, field, format!("{s:?} is not HH:MM")))
    };
    let dep = time("departure", g(5))?;
    let arr = time("arrival", g(6))?;
    let offset: i64 = g(7)
        .parse()
        .ok()
        .filter(|d| (-1..=2).contains(d))
        .ok_or_else(|| {
            err(
                line,
                "arrival_day_offset",
                format!("{:?} is not -1, 0, 1 or 2", g(7)),
            )
        })?;
    let minutes = |t: NaiveTime| (t.signed_duration_since(NaiveTime::MIN)).num_minutes();
    let (tz_o, tz_d) = (
        refdata.airport(origin).map(|a| a.tz),
        refdata.airport(destination).map(|a| a.tz),
    );
    let (Some(tz_o), Some(tz_d)) = (tz_o, tz_d) else {
        return Err(err(line, "origin", "unknown airport"));
    };
    let local_dep = utc_minute(date, minutes(dep));
    let local_arr = utc_minute(date, minutes(arr) + offset * 1440);
    let departure = local_dep - spontra_refdata::offset_minutes_at(tz_o, local_dep) as i64;
    let arrival = local_arr - spontra_refdata::offset_minutes_at(tz_d, local_arr) as i64;
    if arrival <= departure {
        return Err(err(
            line,
            "arrival",
            "arrives before it departs (check arrival_day_offset)",
        ));
    }
    let mut fares = [None; 4];
    const NAMES: [&str; 4] = ["economy", "premium_economy", "business", "first"];
    for (c, fare) in fares.iter_mut().enumerate() {
        let s = g(9 + c);
        if !s.is_empty() {
            let v: f64 = s
                .parse()
                .ok()
                .filter(|v: &f64| *v > 0.0 && *v < 100_000.0)
                .ok_or_else(|| err(line, NAMES[c], format!("{s:?} is not a positive fare")))?;
            *fare = Some((v * 100.0).round() as u64);
        }
    }
    let mut seats = [9u16, 0, 0, 0];
    for c in 1..4 {
        if fares[c].is_some() {
            seats[c] = 9;
        }
    }
    Ok(ScheduleLeg {
        carrier,
        flight_number,
        origin,
        destination,
        departure,
        arrival,
        aircraft: g(8).to_string(),
        seats,
        fares,
    })
}

/// Build the index of imported legs; legs without fares get them from the fare model, with
/// days to departure counted from `today`.
pub fn build_index(refdata: &RefData, legs: &[ScheduleLeg], today: NaiveDate) -> Index {
    let first = legs
        .iter()
        .map(|l| l.departure)
        .min()
        .unwrap_or(utc_minute(today, 0));
    let last = legs
        .iter()
        .map(|l| l.arrival)
        .max()
        .unwrap_or(utc_minute(today, 0));
    let epoch = first.min(utc_minute(today, 0)) - 2 * 1440;
    let mut b = crate::base_builder(refdata, epoch, last + 2 * 1440);
    let mut carriers_on_route: HashMap<(AirportCode, AirportCode), Vec<CarrierCode>> =
        HashMap::new();
    for l in legs {
        let v = carriers_on_route
            .entry((l.origin, l.destination))
            .or_default();
        if !v.contains(&l.carrier) {
            v.push(l.carrier);
        }
    }
    for l in legs {
        let Some(o) = b.airport_id(l.origin) else {
            continue;
        };
        let Some(d) = b.airport_id(l.destination) else {
            continue;
        };
        let carrier = match b.carrier_id(l.carrier) {
            Some(c) => c,
            None => match b.add_carrier(CarrierSpec {
                code: l.carrier,
                alliance: None,
            }) {
                Ok(c) => c,
                Err(_) => continue,
            },
        };
        let (Some(ao), Some(ad)) = (refdata.airport(l.origin), refdata.airport(l.destination))
        else {
            continue;
        };
        let km = great_circle_km(ao.lat, ao.lon, ad.lat, ad.lon);
        let local_dep = l.departure + spontra_refdata::offset_minutes_at(ao.tz, l.departure) as i64;
        let local_date = spontra_domain::utc_date(local_dep);
        let days = (local_date - today).num_days();
        let key = [
            code3(l.carrier.as_str()),
            l.flight_number as u64,
            l.departure as u64,
        ];
        let weekday: Weekday = local_date.weekday();
        let lf = fares::load_factor(
            days,
            matches!(weekday, Weekday::Fri | Weekday::Sat | Weekday::Sun),
            unit(&key),
        );
        let economy = l.fares[0].unwrap_or_else(|| {
            fares::economy_fare_cents(&FareInputs {
                base_usd: fares::route_base_usd(refdata, l.origin, l.destination, km),
                low_cost: refdata.airline(l.carrier).is_some_and(|a| a.low_cost),
                carriers_on_route: carriers_on_route
                    .get(&(l.origin, l.destination))
                    .map(|v| v.len())
                    .unwrap_or(1)
                    .min(255) as u8,
                days_to_departure: days,
                weekday,
                local_minute: local_dep.rem_euclid(1440) as u16,
                load_factor: lf,
                noise: unit(&[key[0], key[1], key[2], 2]),
            })
        });
        let multipliers = fares::cabin_multipliers(km);
        let mut fares_out = [Some(economy), None, None, None];
        let mut seats = [0u8; 4];
        for c in 0..4 {
            if l.seats[c] == 0 && l.fares[c].is_none() {
                continue;
            }
            if c > 0 {
                fares_out[c] = Some(
                    l.fares[c].unwrap_or((economy as f64 * multipliers[c - 1]).round() as u64),
                );
            }
            seats[c] = ((l.seats[c].max(9) as f64) * (1.0 - lf))
                .floor()
                .clamp(1.0, 15.0) as u8;
        }
        let aircraft = b.aircraft_id(&l.aircraft);
        let _ = b.add_leg(LegInput {
            carrier,
            flight_number: l.flight_number,
            origin: o,
            destination: d,
            departure: l.departure,
            arrival: l.arrival,
            aircraft,
            fares: fares_out,
            seats,
        });
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refdata() -> RefData {
        RefData::load().unwrap()
    }

    /// Build a 200-byte type 3 record from its fields (positional, like the record itself).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        carrier: &str,
        flight: &str,
        from: &str,
        to: &str,
        days: &str,
        dep: &str,
        std: &str,
        dep_var: &str,
        arr: &str,
        sta: &str,
        arr_var: &str,
        date_var: &str,
    ) -> String {
        let mut r = vec![b' '; 200];
        let mut put =
            |pos: usize, s: &str| r[pos - 1..pos - 1 + s.len()].copy_from_slice(s.as_bytes());
        put(1, "3");
        put(3, carrier);
        put(6, flight);
        put(10, "01");
        put(12, "01");
        put(14, "J");
        put(15, from);
        put(22, to);
        put(29, days);
        put(37, dep);
        put(40, std);
        put(44, std);
        put(48, dep_var);
        put(55, arr);
        put(58, sta);
        put(62, sta);
        put(66, arr_var);
        put(73, "789");
        put(76, "JCDWYBM");
        put(173, "J30W21Y240");
        put(193, date_var);
        put(195, "000001");
        String::from_utf8(r).unwrap()
    }

    #[test]
    fn ssim_type_3_expands_to_dated_utc_legs() {
        let text = format!(
            "1AIRLINE STANDARD SCHEDULE DATA SET\n{}\n{}\n",
            record(
                "BA", "0117", "01DEC26", "31DEC26", "1 3 5  ", "LHR", "0825", "+0000", "JFK",
                "1120", "-0500", "00"
            ),
            record(
                "BA", "0116", "01DEC26", "31DEC26", "1234567", "JFK", "1830", "-0500", "LHR",
                "0630", "+0000", "01"
            ),
        );
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let r = parse_ssim(&refdata(), &text, first, last);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.records, 2);
        let out: Vec<_> = r.legs.iter().filter(|l| l.flight_number == 117).collect();
        // December 2026 (the 1st is a Tuesday): 13 Mondays, Wednesdays and Fridays.
        assert_eq!(out.len(), 13);
        let l = out[0];
        assert_eq!(
            spontra_domain::utc_date(l.departure),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        );
        assert_eq!(l.departure % 1440, 8 * 60 + 25);
        assert_eq!(l.arrival - l.departure, 7 * 60 + 55);
        assert_eq!(l.seats, [240, 21, 30, 0]);
        let back = r.legs.iter().find(|l| l.flight_number == 116).unwrap();
        // 18:30 New York (23:30 UTC) to 06:30 London the next day: 7 hours.
        assert_eq!(back.arrival - back.departure, 7 * 60);
    }

    #[test]
    fn ssim_errors_name_line_and_field() {
        let good = record(
            "BA", "0117", "01DEC26", "31DEC26", "1 3 5  ", "LHR", "0825", "+0000", "JFK", "1120",
            "-0500", "00",
        );
        let bad_airport = record(
            "BA", "0117", "01DEC26", "31DEC26", "1 3 5  ", "QQQ", "0825", "+0000", "JFK", "1120",
            "-0500", "00",
        );
        let bad_time = record(
            "BA", "0117", "01DEC26", "31DEC26", "1 3 5  ", "LHR", "2575", "+0000", "JFK", "1120",
            "-0500", "00",
        );
        let bad_days = record(
            "BA", "0117", "01DEC26", "31DEC26", "7654321", "LHR", "0825", "+0000", "JFK", "1120",
            "-0500", "00",
        );
        let text = format!("{good}\n{bad_airport}\n{bad_time}\n{bad_days}\n3SHORT\n");
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let r = parse_ssim(&refdata(), &text, first, first + Days::new(30));
        let fields: Vec<(usize, &str)> = r.errors.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            fields,
            vec![
                (2, "departure station (37-39)"),
                (3, "passenger STD (40-43)"),
                (4, "days of operation (29-35)"),
                (5, "record")
            ]
        );
        assert_eq!(r.records, 5);
    }

    #[test]
    fn csv_import_and_errors() {
        let text = "carrier,flight,origin,destination,date,departure,arrival,arrival_day_offset,aircraft,economy,premium_economy,business,first\n\
                    BA,117,LHR,JFK,2026-12-18,08:25,11:20,0,777,489.00,,1890.00,\n\
                    BA,118,LHR,XXX,2026-12-18,08:25,11:20,0,777,,,,\n\
                    BA,119,LHR,JFK,2026-12-18,8h25,11:20,0,777,,,,\n";
        let r = parse_csv(&refdata(), text);
        assert_eq!(r.legs.len(), 1);
        // 08:25 in London (UTC+0) to 11:20 in New York (UTC-5): 7 h 55.
        assert_eq!(r.legs[0].arrival - r.legs[0].departure, 7 * 60 + 55);
        assert_eq!(r.legs[0].fares[2], Some(189000));
        assert_eq!(r.errors[0], err(3, "destination", "unknown airport XXX"));
        assert_eq!(r.errors[1].line, 4);
        assert_eq!(r.errors[1].field, "departure");
    }

    #[test]
    fn imported_legs_are_searchable_with_model_fares() {
        let text = record(
            "BA", "0117", "01DEC26", "31DEC26", "1234567", "LHR", "0825", "+0000", "JFK", "1120",
            "-0500", "00",
        );
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let rd = refdata();
        let r = parse_ssim(&rd, &text, first, first + Days::new(30));
        let index = build_index(&rd, &r.legs, first);
        assert_eq!(index.leg_count(), 31);
        let lhr = index
            .airport_id(AirportCode::parse("LHR").unwrap())
            .unwrap();
        let jfk = index
            .airport_id(AirportCode::parse("JFK").unwrap())
            .unwrap();
        let q = spontra_engine::SliceQuery {
            origins: vec![lhr],
            destinations: vec![jfk],
            date: first + Days::new(10),
        };
        let c = index
            .cheapest(&spontra_engine::CompiledSlice::new(
                &index,
                &q,
                &spontra_engine::Filters::default(),
            ))
            .unwrap();
        assert!(c.price > 10_000 && c.price < 300_000, "{}", c.price);
    }
}
