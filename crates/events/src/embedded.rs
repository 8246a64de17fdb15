//! The embedded profile's event log: three tables in a SQLite file of its own (see [`beside`]:
//! next to the data directory's database).
//!
//! - `bus_topics`: each topic's partition count, fixed when the topic is first used;
//! - `bus_records`: the log, keyed by (topic, partition, offset); a record's partition is a
//!   hash of its key, so one key keeps its order;
//! - `bus_offsets`: each consumer group's next offset per partition.
//!
//! A publish is one `BEGIN IMMEDIATE` transaction on the one writer connection (offsets are
//! given in it, so concurrent publishers never share one) written with multi-row inserts; in
//! WAL mode a committed transaction survives the process being killed (`synchronous=NORMAL`
//! gives up only the last transactions on a power cut, not on a crash). Consumers read on
//! their own connections and are woken by publishes in the same process (and poll the file
//! every 200 ms for other writers). One member per group and topic at a time: the embedded
//! profile is one process, so there is nothing to balance.

use crate::{check_name, next_offsets, Bus, BusError, Consumer, Message, PartitionLag, Record};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Partitions a topic gets when first used.
pub const DEFAULT_PARTITIONS: i32 = 4;
/// Rows per INSERT statement (7 parameters each, well under SQLite's 32,766).
const ROWS_PER_INSERT: usize = 500;
/// How often a waiting consumer looks at the file for records written by another process.
const RECHECK: Duration = Duration::from_millis(200);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bus_topics (
    topic TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB NOT NULL,
    headers BLOB NOT NULL,
    payload BLOB NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
) WITHOUT ROWID;
";

struct Shared {
    writer: SqlitePool,
    reader: SqlitePool,
    appended: Notify,
    members: Mutex<HashSet<(String, String)>>,
    /// Partition counts of the topics seen (they never change).
    partitions: Mutex<HashMap<String, i32>>,
}

/// The embedded durable log.
#[derive(Clone)]
pub struct EmbeddedLog {
    shared: Arc<Shared>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl EmbeddedLog {
    /// Open (creating if needed) the log in the SQLite database at `url` (`sqlite://path`).
    pub async fn open(url: &str) -> Result<EmbeddedLog, BusError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", "10000")
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // The writer's inserts touch pages all over the indexes; readers keep the default.
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await
            .map_err(unavailable)?;
        sqlx::raw_sql(SCHEMA)
            .execute(&writer)
            .await
            .map_err(unavailable)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(EmbeddedLog {
            shared: Arc::new(Shared {
                writer,
                reader,
                appended: Notify::new(),
                members: Mutex::new(HashSet::new()),
                partitions: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The topic's partition count, registering it with the default when new.
    async fn partitions(&self, topic: &str) -> Result<i32, BusError> {
        check_name(topic)?;
        if let Some(&n) = self
            .shared
            .partitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
        {
            return Ok(n);
        }
        sqlx::query(
            "INSERT INTO bus_topics (topic, partitions) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(topic)
        .bind(DEFAULT_PARTITIONS)
        .execute(&self.shared.writer)
        .await
        .map_err(unavailable)?;
        let row = sqlx::query("SELECT partitions FROM bus_topics WHERE topic = ?")
            .bind(topic)
            .fetch_one(&self.shared.writer)
            .await
            .map_err(unavailable)?;
        let n = row.get::<i64, _>(0) as i32;
        self.shared
            .partitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_string(), n);
        Ok(n)
    }
}

/// Where the embedded log of the SQLite database at `database_url` lives: a file of its own
/// beside it (`sqlite://dir/spontra.db` → `sqlite://dir/spontra-events.db`, options kept), so
/// the log's writer and the store's commit side by side instead of taking turns at one file's
/// lock.
pub fn beside(database_url: &str) -> String {
    let (path, options) = match database_url.split_once('?') {
        Some((path, options)) => (path, Some(options)),
        None => (database_url, None),
    };
    let file = match path.strip_suffix(".db") {
        Some(stem) => format!("{stem}-events.db"),
        None => format!("{path}-events"),
    };
    match options {
        Some(options) => format!("{file}?{options}"),
        None => file,
    }
}

/// Records deleted per transaction by [`EmbeddedLog::delete_older_than`], so publishers wait
/// for the writer no longer than a short insert would keep them.
const DELETE_CHUNK: i64 = 20_000;

impl EmbeddedLog {
    /// Time retention, as a Kafka topic's `retention.ms`: delete each topic's records published
    /// before `cutoff(topic)` (milliseconds since the Unix epoch), whether or not a group has
    /// read them — except each partition's newest record, which keeps its offsets counting on. A group behind the cutoff resumes at the oldest record kept. Deletes a
    /// partition's oldest records first, a chunk per transaction. Returns how many it deleted.
    pub async fn delete_older_than(&self, cutoff: impl Fn(&str) -> i64) -> Result<u64, BusError> {
        let topics: Vec<(String, i32)> =
            sqlx::query_as("SELECT topic, partitions FROM bus_topics ORDER BY topic")
                .fetch_all(&self.shared.reader)
                .await
                .map_err(unavailable)?;
        let mut deleted = 0u64;
        for (topic, partitions) in topics {
            let cutoff_ms = cutoff(&topic);
            for partition in 0..partitions {
                loop {
                    // The partition's oldest records, walked in offset order up to the first one
                    // published at the cutoff or later (publish times only grow along a
                    // partition, but a scan that stops there is correct either way).
                    let row = sqlx::query(
                        "SELECT MIN(offset), MAX(offset) FROM bus_records WHERE topic = ?1 AND partition = ?2",
                    )
                    .bind(&topic)
                    .bind(partition)
                    .fetch_one(&self.shared.reader)
                    .await
                    .map_err(unavailable)?;
                    let (Some(first), Some(last)) =
                        (row.get::<Option<i64>, _>(0), row.get::<Option<i64>, _>(1))
                    else {
                        break;
                    };
                    let end = (first + DELETE_CHUNK).min(last);
                    let done = sqlx::query(
                        "DELETE FROM bus_records WHERE topic = ?1 AND partition = ?2 AND offset >= ?3 AND offset < ?4 \
                         AND offset < COALESCE((SELECT MIN(offset) FROM bus_records \
                             WHERE topic = ?1 AND partition = ?2 AND offset >= ?3 AND offset < ?4 AND ts >= ?5), ?4)",
                    )
                    .bind(&topic)
                    .bind(partition)
                    .bind(first)
                    .bind(end)
                    .bind(cutoff_ms)
                    .execute(&self.shared.writer)
                    .await
                    .map_err(unavailable)?
                    .rows_affected();
                    deleted += done;
                    if (done as i64) < end - first || end == last {
                        break;
                    }
                }
            }
        }
        Ok(deleted)
    }
}

/// A stable hash of the key (FNV-1a), so a key's partition never changes.
fn partition_of(key: &[u8], partitions: i32) -> i32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % partitions.max(1) as u64) as i32
}

/// Headers as bytes: for each, the name's length (u16), the name, the value's length (u32),
/// the value.
fn encode_headers(headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![];
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

fn decode_headers(mut bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let take = |n: usize, bytes: &mut &[u8]| -> Option<Vec<u8>> {
        let (head, rest) = bytes.split_at_checked(n)?;
        *bytes = rest;
        Some(head.to_vec())
    };
    while !bytes.is_empty() {
        let Some(n) = take(2, &mut bytes) else { break };
        let Some(name) = take(u16::from_le_bytes([n[0], n[1]]) as usize, &mut bytes) else {
            break;
        };
        let Some(n) = take(4, &mut bytes) else { break };
        let Some(value) = take(
            u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize,
            &mut bytes,
        ) else {
            break;
        };
        out.push((String::from_utf8_lossy(&name).into_owned(), value));
    }
    out
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[async_trait]
impl Bus for EmbeddedLog {
    async fn publish(&self, topic: &str, messages: Vec<Message>) -> Result<(), BusError> {
        if messages.is_empty() {
            return Ok(());
        }
        let partitions = self.partitions(topic).await?;
        let mut by_partition: Vec<Vec<Message>> = (0..partitions).map(|_| vec![]).collect();
        for m in messages {
            by_partition[partition_of(&m.key, partitions) as usize].push(m);
        }
        let ts = now_ms();
        let mut tx = self
            .shared
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        for (partition, batch) in by_partition.into_iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let partition = partition as i32;
            let end: i64 = sqlx::query(
                "SELECT COALESCE(MAX(offset) + 1, 0) FROM bus_records WHERE topic = ? AND partition = ?",
            )
            .bind(topic)
            .bind(partition)
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?
            .get(0);
            let mut offset = end;
            for chunk in batch.chunks(ROWS_PER_INSERT) {
                let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO bus_records (topic, partition, offset, key, headers, payload, ts) ",
                );
                insert.push_values(chunk, |mut row, m| {
                    row.push_bind(topic)
                        .push_bind(partition)
                        .push_bind(offset)
                        .push_bind(m.key.as_slice())
                        .push_bind(encode_headers(&m.headers))
                        .push_bind(m.payload.as_slice())
                        .push_bind(ts);
                    offset += 1;
                });
                insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            }
        }
        tx.commit().await.map_err(unavailable)?;
        self.shared.appended.notify_waiters();
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> Result<Box<dyn Consumer>, BusError> {
        check_name(group)?;
        let partitions = self.partitions(topic).await?;
        let member = (group.to_string(), topic.to_string());
        {
            let mut members = self
                .shared
                .members
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !members.insert(member.clone()) {
                return Err(BusError::GroupBusy {
                    group: group.into(),
                    topic: topic.into(),
                });
            }
        }
        let mut positions = vec![0i64; partitions as usize];
        let rows =
            sqlx::query("SELECT partition, next FROM bus_offsets WHERE grp = ? AND topic = ?")
                .bind(group)
                .bind(topic)
                .fetch_all(&self.shared.reader)
                .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.shared
                    .members
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&member);
                return Err(unavailable(e));
            }
        };
        for row in rows {
            let (p, next): (i64, i64) = (row.get(0), row.get(1));
            if let Some(slot) = positions.get_mut(p as usize) {
                *slot = next;
            }
        }
        Ok(Box::new(EmbeddedConsumer {
            log: self.clone(),
            topic: topic.into(),
            group: group.into(),
            positions,
            next_partition: 0,
        }))
    }

    async fn lag(&self, topic: &str, group: &str) -> Result<Vec<PartitionLag>, BusError> {
        check_name(group)?;
        let partitions = self.partitions(topic).await?;
        let mut out = vec![];
        for partition in 0..partitions {
            let row = sqlx::query(
                "SELECT COALESCE((SELECT next FROM bus_offsets WHERE grp = ?1 AND topic = ?2 AND partition = ?3), 0), \
                        COALESCE((SELECT MAX(offset) + 1 FROM bus_records WHERE topic = ?2 AND partition = ?3), 0)",
            )
            .bind(group)
            .bind(topic)
            .bind(partition)
            .fetch_one(&self.shared.reader)
            .await
            .map_err(unavailable)?;
            out.push(PartitionLag {
                partition,
                committed: row.get(0),
                end: row.get(1),
            });
        }
        Ok(out)
    }
}

struct EmbeddedConsumer {
    log: EmbeddedLog,
    topic: String,
    group: String,
    /// The next offset to read, per partition.
    positions: Vec<i64>,
    /// Where the next read starts, so no partition starves the others.
    next_partition: usize,
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        self.log
            .shared
            .members
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(self.group.clone(), self.topic.clone()));
    }
}

impl EmbeddedConsumer {
    async fn read(&mut self, max: usize) -> Result<Vec<Record>, BusError> {
        let n = self.positions.len();
        let mut out = vec![];
        for i in 0..n {
            if out.len() >= max {
                break;
            }
            let partition = (self.next_partition + i) % n;
            let rows = sqlx::query(
                "SELECT offset, key, headers, payload, ts FROM bus_records \
                 WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
            )
            .bind(&self.topic)
            .bind(partition as i32)
            .bind(self.positions[partition])
            .bind((max - out.len()) as i64)
            .fetch_all(&self.log.shared.reader)
            .await
            .map_err(unavailable)?;
            for row in rows {
                let offset: i64 = row.get(0);
                self.positions[partition] = offset + 1;
                out.push(Record {
                    topic: self.topic.clone(),
                    partition: partition as i32,
                    offset,
                    key: row.get(1),
                    headers: decode_headers(row.get::<&[u8], _>(2)),
                    payload: row.get(3),
                    timestamp_ms: row.get(4),
                });
            }
        }
        self.next_partition = (self.next_partition + 1) % n.max(1);
        Ok(out)
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Record>, BusError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Listen before looking, so a publish between the two is not missed.
            let shared = self.log.shared.clone();
            let appended = shared.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let records = self.read(max.max(1)).await?;
            let now = tokio::time::Instant::now();
            if !records.is_empty() || now >= deadline {
                return Ok(records);
            }
            let _ = tokio::time::timeout((deadline - now).min(RECHECK), appended).await;
        }
    }

    async fn commit(&mut self, applied: &[Record]) -> Result<(), BusError> {
        let next = next_offsets(applied);
        if next.is_empty() {
            return Ok(());
        }
        let mut upsert: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO bus_offsets (grp, topic, partition, next) ");
        upsert.push_values(&next, |mut row, (partition, offset)| {
            row.push_bind(&self.group)
                .push_bind(&self.topic)
                .push_bind(*partition)
                .push_bind(*offset);
        });
        // Never move a committed offset backwards.
        upsert.push(
            " ON CONFLICT (grp, topic, partition) DO UPDATE SET next = MAX(next, excluded.next)",
        );
        upsert
            .build()
            .execute(&self.log.shared.writer)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_survive_the_round_trip_and_garbage_does_not_panic() {
        let h = vec![
            ("ce_id".to_string(), b"42".to_vec()),
            ("empty".to_string(), vec![]),
        ];
        assert_eq!(decode_headers(&encode_headers(&h)), h);
        let _ = decode_headers(&[255, 255, 1]);
    }

    #[test]
    fn the_log_lives_beside_the_database() {
        assert_eq!(
            beside("sqlite://data/spontra.db"),
            "sqlite://data/spontra-events.db"
        );
        assert_eq!(
            beside("sqlite:///tmp/x/spontra.db?mode=rwc"),
            "sqlite:///tmp/x/spontra-events.db?mode=rwc"
        );
        assert_eq!(beside("sqlite://data/store"), "sqlite://data/store-events");
    }

    /// Retention deletes what was published before the cutoff, keeps each partition's newest
    /// record so offsets count on, and consumers carry on from what is kept.
    #[tokio::test]
    async fn retention_deletes_old_records_and_offsets_count_on() {
        let dir = std::env::temp_dir().join(format!("spontra-retention-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/log.db", dir.display());
        let log = EmbeddedLog::open(&url).await.unwrap();
        let msgs = |from: usize, n: usize| -> Vec<Message> {
            (from..from + n)
                .map(|i| Message {
                    key: b"one-key".to_vec(),
                    headers: vec![],
                    payload: format!("{i}").into_bytes(),
                })
                .collect()
        };
        log.publish("t", msgs(0, 30)).await.unwrap();
        let mut early = log.subscribe("t", "early").await.unwrap();
        let read = early.poll(10, Duration::from_millis(100)).await.unwrap();
        early.commit(&read).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let cutoff = now_ms();
        tokio::time::sleep(Duration::from_millis(20)).await;
        log.publish("t", msgs(30, 5)).await.unwrap();
        log.publish("kept", msgs(0, 3)).await.unwrap();
        // Each topic has its own cutoff.
        let at = |topic: &str| if topic == "t" { cutoff } else { 0 };
        assert_eq!(log.delete_older_than(at).await.unwrap(), 30);
        assert_eq!(
            log.delete_older_than(at).await.unwrap(),
            0,
            "nothing more is old"
        );
        let mut kept = log.subscribe("kept", "g").await.unwrap();
        assert_eq!(
            kept.poll(10, Duration::from_millis(100))
                .await
                .unwrap()
                .len(),
            3
        );
        // The group that had read 10 resumes at the oldest record kept; a new group too.
        let rest = early.poll(100, Duration::from_millis(100)).await.unwrap();
        let offsets: Vec<i64> = rest.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (30..35).collect::<Vec<_>>());
        assert_eq!(rest[0].payload, b"30");
        drop(early);
        let mut fresh = log.subscribe("t", "fresh").await.unwrap();
        assert_eq!(
            fresh
                .poll(100, Duration::from_millis(100))
                .await
                .unwrap()
                .len(),
            5
        );

        // Everything is old now: all but the newest record go, and the next publish follows it.
        let later = now_ms() + 1000;
        assert_eq!(log.delete_older_than(|_| later).await.unwrap(), 4 + 2);
        log.publish("t", msgs(35, 1)).await.unwrap();
        let next = fresh.poll(100, Duration::from_millis(100)).await.unwrap();
        assert_eq!(next.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![35]);
        let lag = log.lag("t", "fresh").await.unwrap();
        assert_eq!(lag.iter().map(|l| l.end).max(), Some(36));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_key_always_lands_in_the_same_partition() {
        let p = partition_of(b"LHR-JFK", 4);
        assert!((0..4).contains(&p));
        assert_eq!(partition_of(b"LHR-JFK", 4), p);
        let spread: HashSet<i32> = (0..100)
            .map(|i| partition_of(format!("k{i}").as_bytes(), 4))
            .collect();
        assert_eq!(spread.len(), 4);
    }
}
