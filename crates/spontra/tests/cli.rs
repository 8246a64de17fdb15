#![allow(clippy::unwrap_used, clippy::expect_used)] // test and benchmark code may panic
//! The CLI: readable tables, `--json`, and bad input reported like the API with a non-zero exit.

use std::process::Command;

fn spontra(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args(args)
        .args(["--scale", "tiny", "--today", "2026-12-01"])
        .output()
        .expect("run spontra");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn search_prints_a_table_and_json() {
    let (code, out, err) = spontra(&["search", "LHR", "JFK", "2026-12-10", "--limit", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("EUR") && out.contains("LHR-JFK"), "{out}");
    let (code, out, _) = spontra(&[
        "search",
        "LON",
        "NYC",
        "2026-12-10",
        "--return",
        "2026-12-15",
        "--json",
        "--limit",
        "2",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["itineraries"][0]["slices"].as_array().map(|s| s.len()),
        Some(2)
    );
}

#[test]
fn explore_and_calendar_run() {
    let (code, out, err) = spontra(&[
        "explore",
        "LHR",
        "--depart",
        "2026-12-18..2026-12-19",
        "--min-hours",
        "1",
        "--max-hours",
        "4",
        "--max-price",
        "300",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("destinations from LHR"), "{out}");
    let (code, out, _) = spontra(&[
        "calendar",
        "LHR",
        "CDG",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-07",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("2026-12-07"));
}

#[test]
fn bad_input_exits_non_zero_with_the_api_message() {
    let (code, _, err) = spontra(&["search", "XXX", "JFK", "2026-12-10"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown_airport") && err.contains("origin"),
        "{err}"
    );
    let (code, _, err) = spontra(&["explore", "LHR", "--min-hours", "5", "--max-hours", "2"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid_range"), "{err}");
    let (code, _, err) = spontra(&[
        "search",
        "LHR",
        "JFK",
        "2026-12-10",
        "--adults",
        "2",
        "--infants",
        "3",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("too_many_infants"), "{err}");
}

#[test]
fn searches_an_imported_schedule() {
    let dir = std::env::temp_dir().join(format!("spontra-cli-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("schedule.csv");
    std::fs::write(
        &file,
        "carrier,flight,origin,destination,date,departure,arrival,arrival_day_offset,aircraft,economy,premium_economy,business,first\n\
         BA,117,LHR,JFK,2026-12-10,08:25,11:20,0,777,489.00,,,\n\
         BA,432,LHR,AMS,2026-12-10,07:00,09:15,0,320,89.00,,,\n\
         KL,643,AMS,JFK,2026-12-10,12:00,14:20,0,333,,,,\n",
    )
    .unwrap();
    let path = file.to_string_lossy().to_string();
    let (code, out, err) = spontra(&[
        "search",
        "LHR",
        "JFK",
        "2026-12-10",
        "--schedule",
        &path,
        "--json",
        "--sort",
        "cheapest",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let flights: Vec<String> = v["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["slices"][0]["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["flight"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    assert!(flights.contains(&"BA117".to_string()), "{flights:?}");
    assert!(flights.contains(&"BA432+KL643".to_string()), "{flights:?}");
    // The direct carries its given fare; the connection got one from the fare model.
    let direct = v["itineraries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["stops"] == 0)
        .unwrap();
    assert_eq!(direct["price"]["minor"], 48900);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_reports_line_and_field() {
    let dir = std::env::temp_dir().join(format!("spontra-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.csv");
    std::fs::write(
        &file,
        "carrier,flight,origin,destination,date,departure,arrival,arrival_day_offset,aircraft,economy,premium_economy,business,first\n\
         BA,117,LHR,JFK,2026-12-18,08:25,11:20,0,777,489.00,,,\n\
         BA,118,LHR,JFK,2026-12-18,25:00,11:20,0,777,,,,\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args(["import", "csv"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("line 3, field departure"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn migrate_creates_the_schema_and_refuses_unknown_urls() {
    let path = std::env::temp_dir().join(format!("spontra-migrate-{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_spontra"))
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(path.exists());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_spontra"))
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite: or postgres://"));
}

#[test]
fn database_passwords_are_never_printed() {
    for url in [
        "mysql://root:hunter2@db.internal/spontra",
        // A server that is not there: the connection error must not echo the URL either.
        "postgres://spontra:hunter2@127.0.0.1:9/spontra",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_spontra"))
            .args(["migrate", "--database-url", url])
            .env("SPONTRA__LOG__FILTER", "debug")
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{url}: {printed}");
        assert!(!printed.contains("hunter2"), "{url}: {printed}");
    }
}

/// `spontra bench ingest` publishes, ingests and counts: every event applied once, changes
/// published, a rate reported; bad arguments exit non-zero.
#[test]
fn the_ingestion_benchmark_runs_end_to_end() {
    let queries = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/queries.csv");
    let (code, out, err) = spontra(&[
        "bench",
        "ingest",
        "--events",
        "600",
        "--batch",
        "250",
        "--queries",
        queries,
        "--change-rate",
        "20000",
        "--change-batch",
        "1000",
        "--seconds",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // Then searches under a stream of changes, against the same searches idle.
    assert!(
        out.contains("search under changes: 20000 fare changes")
            && out.contains("point-to-point, idle")
            && out.contains("point-to-point, under changes")
            && out.contains("a change searchable after it arrived: p50"),
        "{out}"
    );
    assert!(
        out.contains("600 applied, 0 duplicates, 600 changed, 0 dead letters; 600 inventory.changed events; 600 price observations stored"),
        "{out}"
    );
    assert!(
        out.contains("events/s") && out.contains("3 batches"),
        "{out}"
    );
    let (code, _, err) = spontra(&["bench", "ingest", "--events", "0"]);
    assert_ne!(code, 0, "{err}");
    // The engine benchmark keeps its own arguments.
    let (code, _, err) = spontra(&["bench"]);
    assert_ne!(code, 0);
    assert!(err.contains("--queries"), "{err}");
}
