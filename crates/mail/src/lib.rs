//! Outgoing email. Services build a [`Mail`] and hand it to a [`Mailer`]:
//!
//! - [`SmtpMailer`]: SMTP through lettre, TLS by rustls, configured by an URL such as
//!   `smtps://user:password@smtp.example.com` or `smtp://127.0.0.1:2525` (plain, loopback
//!   only in practice). The URL holds a secret and is never logged.
//! - [`OutboxMailer`]: the embedded profile's outbox. Each message is written as an `.eml`
//!   file (RFC 5322, what an SMTP server would have received) under a directory, and its link
//!   (the one the service put there, never one found in the text) is logged, so a local user
//!   can follow a verification link without a mail server. The directory is 0700 and each
//!   file 0600 on Unix: the mails hold live reset links.

use async_trait::async_trait;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::message::MultiPart;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};

/// One message to one recipient: plain text, and with `html` an HTML alternative.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The same message in HTML (sent as `multipart/alternative` with the text).
    pub html: Option<String>,
    /// The link the message is about (what the outbox logs).
    pub link: Option<String>,
    /// A one-click unsubscribe URL (HTTPS in production): sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), so mail clients offer
    /// an unsubscribe button that POSTs to it.
    pub unsubscribe: Option<String>,
    /// The `Message-ID` (`<id@host>`); lettre makes one up when it is `None`.
    pub message_id: Option<String>,
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
    let mut builder = Message::builder()
        .from(from.clone())
        .to(mailbox(&mail.to)?)
        .subject(mail.subject.clone())
        .message_id(mail.message_id.clone());
    if let Some(url) = &mail.unsubscribe {
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let built = match &mail.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            html.clone(),
        )),
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone()),
    };
    built.map_err(|e| MailError::Build(e.to_string()))
}

/// Create `dir` (and its parents) readable by its owner only, or tighten it if it exists.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn make_private(_: &Path) -> std::io::Result<()> {
    Ok(())
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
    /// Creates `dir` if needed (private to this user).
    pub fn new(dir: &Path, from: &str) -> Result<OutboxMailer, MailError> {
        create_private_dir(dir)
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
        make_private(&path).map_err(|e| MailError::Send(format!("{}: {e}", path.display())))?;
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            path = %path.display(),
            link = mail.link.as_deref().unwrap_or(""),
            "mail written to the outbox (no SMTP server configured)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_writes_a_real_message() {
        let dir = std::env::temp_dir().join(format!("spontra-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer::new(&dir, "Spontra <no-reply@spontra.local>").unwrap();
        let mail = Mail {
            to: "ada@example.com".into(),
            subject: "Confirm your email".into(),
            text: "Open https://spontra.local/verify-email?token=xyz\n".into(),
            link: Some("https://spontra.local/verify-email?token=xyz".into()),
            ..Default::default()
        };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700, "the outbox is private");
            assert_eq!(mode(&files[0]), 0o600, "each mail is private");
        }
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
