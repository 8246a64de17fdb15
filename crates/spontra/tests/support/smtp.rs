//! A real SMTP server on loopback for tests: `aiosmtpd` (PyPI; `scripts/test` installs it)
//! delivering into a Maildir that the test reads.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// One received message.
#[derive(Clone, Debug)]
pub struct Received {
    pub raw: String,
    /// The body with quoted-printable soft breaks and escapes undone.
    pub text: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.raw
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim())
            })
    }

    pub fn to(&self) -> &str {
        self.header("To").unwrap_or("")
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }

    /// The `token` parameter of the first link.
    pub fn token(&self) -> String {
        let start = self.text.find("token=").expect("a link with a token") + "token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let maildir = std::env::temp_dir().join(format!("spontra-smtp-{}", uuid::Uuid::new_v4()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 -m aiosmtpd (scripts/test installs it: pip install aiosmtpd)");
        let server = SmtpServer {
            child,
            port,
            maildir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on port {port}; is it installed (pip install aiosmtpd)?"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(dir) = std::fs::read_dir(self.maildir.join("new")) else {
            return vec![];
        };
        // Arrival order: Maildir names are not zero-padded, so sort by modification time.
        let mut files: Vec<_> = dir
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        let files = files.into_iter().map(|(_, p)| p);
        files
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|raw| {
                let body = raw
                    .split_once("\n\n")
                    .or_else(|| raw.split_once("\r\n\r\n"))
                    .map_or("", |(_, b)| b);
                Received {
                    text: decode_quoted_printable(body),
                    raw,
                }
            })
            .collect()
    }

    pub fn count(&self, to: &str, subject_part: &str) -> usize {
        self.messages()
            .iter()
            .filter(|m| m.to().contains(to) && m.subject().contains(subject_part))
            .count()
    }

    /// Wait (up to 15 s) until the `n`-th message to `to` whose subject contains
    /// `subject_part` has arrived, and return it.
    pub async fn wait_for(&self, to: &str, subject_part: &str, n: usize) -> Received {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found: Vec<Received> = self
                .messages()
                .into_iter()
                .filter(|m| m.to().contains(to) && m.subject().contains(subject_part))
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{n} to {to} about {subject_part:?}; received: {:?}",
                self.messages()
                    .iter()
                    .map(|m| (m.to().to_string(), m.subject().to_string()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[test]
fn quoted_printable_is_undone() {
    assert_eq!(
        decode_quoted_printable("open http://x/verify-email?token=3Dab=\r\ncd now =E2=80=94 ok"),
        "open http://x/verify-email?token=abcd now — ok"
    );
}
