//! Test support: a real Kafka-protocol broker for the tests of every crate that talks Kafka.
//!
//! [`Broker::start`] runs `tansu` (the Kafka-protocol broker `scripts/test` installs) on a
//! free port with its SQLite storage engine in a directory of its own, and stops it and
//! removes the directory when dropped. Its SQLite engine, not its memory engine: tansu 0.6's
//! memory engine answers a fetch from an offset inside a record batch with nothing (a group
//! resuming after a commit in the middle of a producer's batch would never see the rest of
//! it) and reports the latest offset as the last batch's first offset + 1.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Broker {
    child: Child,
    dir: PathBuf,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub address: String,
}

impl Broker {
    /// Start a broker; panics (a test failure) when tansu is missing or does not listen
    /// within 30 s.
    pub fn start() -> Broker {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "spontra-tansu-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let url = format!("tcp://127.0.0.1:{port}");
        // tansu reads the path of a sqlite:// URL relative to its working directory.
        let child = Command::new("tansu")
            .current_dir(&dir)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("tansu ({e}); scripts/test installs it: cargo install tansu --locked --features dynostore,libsql")
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Broker {
            child,
            dir,
            address: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
