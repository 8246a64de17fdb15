//! Outgoing email. Services build a [`Mail`] and hand it to a [`Mailer`]:
//!
//! - [`SmtpMailer`]: SMTP through lettre, TLS by rustls, configured by an URL such as
//!   `smtps://user:password@smtp.example.com` or `smtp://127.0.0.1:2525` (plain, loopback
//!   only in practice). The URL holds a secret and is never logged.
//! - [`OutboxMailer`]: the embedded profile's outbox. Each message is written as an `.eml`
//!   file (RFC 5322, what an SMTP server would have received) under a directory, and the first
//!   link in it is logged, so a local user can follow a verification link without a mail
//!   server.

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};

/// One plain-text message to one recipient.
#[derive(Clone, Debug, PartialEq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address {0:?}: {1}")]
    Address(String, String),
    #[error("building the message: {0}")]
    Build(String),
    #[error("mail transport configuration: {0}")]
    Config(String),
    #[error("sending: {0}")]
    Send(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|e: lettre::address::AddressError| {
        MailError::Address(address.to_string(), e.to_string())
    })
}

fn message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    Message::builder()
        .from(from.clone())
        .to(mailbox(&mail.to)?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Build(e.to_string()))
}

/// The first `http://` or `https://` link in a text.
pub fn first_link(text: &str) -> Option<&str> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    text[start..].split_whitespace().next()
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url`: lettre's SMTP URL (`smtp://host:port`, `smtp://host:port?tls=required`,
    /// `smtps://user:pass@host:465`). `from`: e.g. `Spontra <no-reply@example.com>`.
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, MailError> {
        // The URL may carry a password: the error says what is wrong, not the URL.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("mail.smtp_url: {e}")))?
            .build();
        Ok(SmtpMailer {
            transport,
            from: mailbox(from)?,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let msg = message(&self.from, mail)?;
        self.transport
            .send(msg)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        tracing::info!(subject = %mail.subject, "mail sent");
        Ok(())
    }
}

pub struct OutboxMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// Creates `dir` if needed.
    pub fn new(dir: &Path, from: &str) -> Result<OutboxMailer, MailError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MailError::Config(format!("creating {}: {e}", dir.display())))?;
        Ok(OutboxMailer {
            transport: AsyncFileTransport::<Tokio1Executor>::new(dir),
            dir: dir.to_path_buf(),
            from: mailbox(from)?,
        })
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let msg = message(&self.from, mail)?;
        let id = self
            .transport
            .send(msg)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        let path = self.dir.join(format!("{id}.eml"));
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            path = %path.display(),
            link = first_link(&mail.text).unwrap_or(""),
            "mail written to the outbox (no SMTP server configured)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_link() {
        assert_eq!(
            first_link("Hi,\nopen http://localhost:8080/verify?token=abc to confirm.\n"),
            Some("http://localhost:8080/verify?token=abc")
        );
        assert_eq!(first_link("no link here"), None);
    }

    #[tokio::test]
    async fn the_outbox_writes_a_real_message() {
        let dir = std::env::temp_dir().join(format!("spontra-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer::new(&dir, "Spontra <no-reply@spontra.local>").unwrap();
        let mail = Mail {
            to: "ada@example.com".into(),
            subject: "Confirm your email".into(),
            text: "Open https://spontra.local/verify-email?token=xyz\n".into(),
        };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("Subject: Confirm your email"), "{text}");
        assert!(text.contains("token=xyz"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_configuration_is_reported_without_the_url() {
        let err = SmtpMailer::new("ftp://user:secret@host", "a@b.c")
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
        assert!(matches!(
            OutboxMailer::new(&std::env::temp_dir(), "not an address"),
            Err(MailError::Address(..))
        ));
    }
}
