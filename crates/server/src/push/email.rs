//! E-mail notices through the university's SMTP server. Two help pages
//! send students to their university mailbox (UP's activation message,
//! UEK's "watch your mailbox"); Legitka mails the same signal a push
//! carries — what changed, in Polish and English, text and HTML — never
//! the codes. Each notice leaves an e-mail in the outbox (`email_deliveries`)
//! in the change's own transaction, when the student has an address and
//! SMTP is configured; [`Mailer`] sends them on the outbox engine: a
//! refusal for good (5xx) is dead-lettered, anything else tried again.

use crate::crypto::Secret;
use crate::db::Db;
use crate::error::AppResult;
use crate::outbox::{ExecutionOutcome, Handler, Job, Outbox, Queue, Step};
use futures_util::future::BoxFuture;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{Locale, OrderStatus};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a server on this machine (loopback).
    None,
}

/// The `[smtp]` settings.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password (from a file), when the server wants them.
    pub credentials: Option<(String, Secret<String>)>,
    /// The sender, e.g. `Legitka <legitka@uczelnia.pl>`.
    pub from: Mailbox,
}

impl SmtpSettings {
    pub fn new(
        host: &str,
        port: u16,
        security: Security,
        credentials: Option<(String, Secret<String>)>,
        from: &str,
    ) -> anyhow::Result<Self> {
        let host = host.trim();
        anyhow::ensure!(!host.is_empty(), "smtp: a host");
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        anyhow::ensure!(
            security != Security::None || loopback,
            "smtp: security = \"none\" only to a server on this machine; use starttls or tls"
        );
        Ok(Self {
            host: host.to_owned(),
            port,
            security,
            credentials,
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("smtp: from {from:?}: {e}"))?,
        })
    }

    fn transport(&self) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
        let builder = match self.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host)?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host),
        };
        let builder = builder
            .port(self.port)
            .timeout(Some(Duration::from_secs(20)));
        let builder = match &self.credentials {
            Some((user, password)) => {
                builder.credentials(Credentials::new(user.clone(), password.expose().clone()))
            }
            None => builder,
        };
        Ok(builder.build())
    }
}

static EMAILS: Queue = Queue {
    name: "email",
    table: "email_deliveries",
    dead_table: "dead_email_deliveries",
    columns: "notice_id, student_id",
};

/// The e-mail outbox's handler.
pub struct Mailer {
    db: Db,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

pub type EmailOutbox = Outbox<Mailer>;

pub fn outbox(
    db: Db,
    clock: Arc<dyn crate::clock::Clock>,
    smtp: &SmtpSettings,
) -> anyhow::Result<EmailOutbox> {
    let mailer = Mailer {
        db: db.clone(),
        from: smtp.from.clone(),
        transport: smtp.transport()?,
    };
    let mut outbox = Outbox::with_handler(db, clock, mailer);
    outbox.workers = 2;
    outbox.base_backoff = Duration::from_secs(30);
    outbox.max_backoff = Duration::from_secs(1800);
    outbox.max_attempts = 20;
    Ok(outbox)
}

impl Handler for Mailer {
    fn queue(&self) -> &'static Queue {
        &EMAILS
    }

    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, AppResult<Step>> {
        Box::pin(self.send(job))
    }
}

/// One e-mail: the notice's words in both languages, as text and HTML.
pub fn compose(
    from: &Mailbox,
    to: Mailbox,
    first_name: &str,
    kind: NoticeKind,
    status: OrderStatus,
) -> anyhow::Result<Message> {
    let pl = legitka_wire::notice::texts(kind, status, Locale::Pl);
    let en = legitka_wire::notice::texts(kind, status, Locale::En);
    let text = format!(
        "{first_name},\n\n{}\n{}\n\nOtwórz aplikację Legitka, aby zobaczyć szczegóły.\n\n\
         ---\n\n{}\n{}\n\nOpen the Legitka app for the details.\n",
        pl.title, pl.body, en.title, en.body
    );
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>{name},</p><h2 lang=\"pl\">{}</h2><p lang=\"pl\">{}</p>\
         <p lang=\"pl\">Otwórz aplikację Legitka, aby zobaczyć szczegóły.</p><hr>\
         <h2 lang=\"en\">{}</h2><p lang=\"en\">{}</p>\
         <p lang=\"en\">Open the Legitka app for the details.</p></body></html>",
        esc(pl.title),
        esc(pl.body),
        esc(en.title),
        esc(en.body),
        name = esc(first_name),
    );
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(format!("{} / {}", pl.title, en.title))
        .multipart(MultiPart::alternative_plain_html(text, html))?)
}

impl Mailer {
    async fn send(&self, job: &Job) -> AppResult<Step> {
        let notice_id: String = job.row.try_get("notice_id")?;
        let student_id: String = job.row.try_get("student_id")?;
        let row = sqlx::query(
            "SELECT s.email, s.first_name, n.kind, n.status FROM students s, notices n \
             WHERE s.id = $1 AND n.id = $2",
        )
        .bind(&student_id)
        .bind(&notice_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Step::Finished(ExecutionOutcome::DeviceGone));
        };
        let Some(address) = row.try_get::<Option<String>, _>("email")? else {
            // The registry dropped the address since.
            return Ok(Step::Finished(ExecutionOutcome::DeviceGone));
        };
        let kind: String = row.try_get("kind")?;
        let status: String = row.try_get("status")?;
        let (Some(kind), Some(status)) = (NoticeKind::parse(&kind), OrderStatus::parse(&status))
        else {
            return Ok(Step::Dead(format!("unknown notice {kind}/{status}")));
        };
        let to: Mailbox = match address.parse() {
            Ok(to) => to,
            Err(e) => return Ok(Step::Dead(format!("not an e-mail address: {e}"))),
        };
        let first_name: String = row.try_get("first_name")?;
        let message = compose(&self.from, to, &first_name, kind, status)
            .map_err(crate::error::AppError::from)?;
        Ok(match self.transport.send(message).await {
            Ok(_) => Step::Finished(ExecutionOutcome::Delivered),
            // The server refuses it for good (no such mailbox, policy): a
            // bounce at the door, not to be tried again.
            Err(e) if e.is_permanent() => Step::Dead(format!("refused: {e}")),
            Err(e) => Step::Retry {
                after: None,
                error: e.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_says_what_changed_in_both_languages_and_never_the_codes() {
        let from: Mailbox = "Legitka <legitka@uczelnia.example>".parse().unwrap();
        let to: Mailbox = "anna@student.uczelnia.example".parse().unwrap();
        let m = compose(
            &from,
            to,
            "Anna",
            NoticeKind::OrderStatus,
            OrderStatus::Ready,
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        // A subject, and the same words as plain text and as HTML (their
        // decoded content is checked against a real SMTP server in
        // tests/email.rs).
        assert!(raw.contains("Subject:"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(raw.contains("To: anna@student.uczelnia.example"), "{raw}");
    }

    #[test]
    fn no_tls_only_on_this_machine() {
        let from = "legitka@uczelnia.example";
        assert!(SmtpSettings::new("127.0.0.1", 25, Security::None, None, from).is_ok());
        assert!(
            SmtpSettings::new("smtp.uczelnia.example", 25, Security::None, None, from).is_err()
        );
        assert!(
            SmtpSettings::new("smtp.uczelnia.example", 587, Security::StartTls, None, from).is_ok()
        );
        assert!(
            SmtpSettings::new("127.0.0.1", 25, Security::None, None, "not an address").is_err()
        );
    }
}
