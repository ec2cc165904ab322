//! E-mail notices through the university's SMTP server. Two help pages
//! send students to their university mailbox (UP's activation message,
//! UEK's "watch your mailbox"); Legitka mails the same signal a push
//! carries — what changed, in Polish and English, text and HTML — and not
//! the codes, unless the university chooses UP's way (`codes_by_email`):
//! then the "ready" e-mail carries them, the QR as an inline PNG, sealed
//! in the outbox row until sent. Each notice leaves an e-mail in the outbox
//! (`email_deliveries`) in the change's own transaction, when the student
//! has an address and SMTP is configured; [`Mailer`] sends them on the
//! outbox engine: a refusal for good (5xx) is dead-lettered (without the
//! codes), anything else tried again.

use crate::crypto::{Secret, SecretBox};
use crate::db::Db;
use crate::error::AppResult;
use crate::outbox::{ExecutionOutcome, Handler, Job, Outbox, Queue, Step};
use futures_util::future::BoxFuture;
use legitka_wire::ActivationData;
use legitka_wire::notice::NoticeKind;
use legitka_wire::{Locale, OrderStatus};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
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
    /// The university's choice to mail the codes with the "ready" notice
    /// (UP's activation message); off by default.
    pub codes_by_email: bool,
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
        anyhow::ensure!(
            security != Security::None || crate::net::is_loopback_host(host),
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
            codes_by_email: false,
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

pub static EMAILS: Queue = Queue {
    name: "email",
    table: "email_deliveries",
    dead_table: "dead_email_deliveries",
    columns: "notice_id, student_id",
};

/// The e-mail outbox's handler.
pub struct Mailer {
    db: Db,
    clock: Arc<dyn crate::clock::Clock>,
    secrets: SecretBox,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

pub type EmailOutbox = Outbox<Mailer>;

pub fn outbox(
    db: Db,
    clock: Arc<dyn crate::clock::Clock>,
    secrets: SecretBox,
    smtp: &SmtpSettings,
) -> anyhow::Result<EmailOutbox> {
    let mailer = Mailer {
        db: db.clone(),
        clock: Arc::clone(&clock),
        secrets,
        from: smtp.from.clone(),
        transport: smtp.transport()?,
    };
    let mut outbox = Outbox::with_handler(db, clock, mailer);
    // Two messages at once over the SMTP transport's pool.
    outbox.workers = 2;
    outbox.batch = 1;
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

/// One e-mail: the notice's words in both languages, as text and HTML;
/// with `codes`, also the activation data (the QR as an inline image).
pub fn compose(
    from: &Mailbox,
    to: Mailbox,
    first_name: &str,
    kind: NoticeKind,
    status: OrderStatus,
    codes: Option<&ActivationData>,
) -> anyhow::Result<Message> {
    let pl = legitka_wire::notice::texts(kind, status, Locale::Pl);
    let en = legitka_wire::notice::texts(kind, status, Locale::En);
    let (codes_pl, codes_en) = codes.map(codes_text).unwrap_or_default();
    let (more_pl, more_en) = if codes.is_some() {
        (
            "Kody są też w aplikacji Legitka.",
            "The codes are in the Legitka app too.",
        )
    } else {
        (
            "Otwórz aplikację Legitka, aby zobaczyć szczegóły.",
            "Open the Legitka app for the details.",
        )
    };
    let text = format!(
        "{first_name},\n\n{}\n{}\n\n{codes_pl}{more_pl}\n\n\
         ---\n\n{}\n{}\n\n{codes_en}{more_en}\n",
        pl.title, pl.body, en.title, en.body
    );
    // The codes in the HTML part: the inline QR image, then the words.
    let codes_html = |text: &str, alt: &str| {
        maud::html! {
            @if codes.is_some() {
                p { img src="cid:qr" width="296" height="296" alt=(alt); }
                pre { (text) }
            }
        }
    };
    let html = maud::html! {
        (maud::DOCTYPE)
        html {
            body style="font-family:sans-serif" {
                p { (first_name) "," }
                h2 lang="pl" { (pl.title) }
                p lang="pl" { (pl.body) }
                div lang="pl" { (codes_html(&codes_pl, "Kod QR do zeskanowania w mObywatelu")) }
                p lang="pl" { (more_pl) }
                hr;
                h2 lang="en" { (en.title) }
                p lang="en" { (en.body) }
                div lang="en" { (codes_html(&codes_en, "QR code to scan in mObywatel")) }
                p lang="en" { (more_en) }
            }
        }
    }
    .into_string();
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(format!("{} / {}", pl.title, en.title));
    let body = match codes {
        None => MultiPart::alternative_plain_html(text, html),
        Some(c) => {
            let png = legitka_wire::qr::png(&c.qr_payload, 8)?;
            MultiPart::alternative()
                .singlepart(SinglePart::plain(text))
                .multipart(
                    MultiPart::related()
                        .singlepart(SinglePart::html(html))
                        .singlepart(
                            Attachment::new_inline("qr".to_owned()).body(png, "image/png".parse()?),
                        ),
                )
        }
    };
    Ok(builder.multipart(body)?)
}

/// The activation data as words, in Polish and in English.
fn codes_text(c: &ActivationData) -> (String, String) {
    let until = crate::calendar::day_of(c.expires_at);
    let pl = format!(
        "Dane aktywacyjne (ważne do {until} włącznie):\n\
         Kod QR: w tej wiadomości — zeskanuj go mObywatelem z ekranu komputera.\n\
         Kod do wpisania: {}\nKod aktywacyjny: {}\n\
         W mObywatelu: „+” → „Legitymacja studencka” → zeskanuj kod QR albo wpisz kody.\n\
         Ta wiadomość zużyła jedno z trzech wyświetleń. Nie przekazuj jej nikomu: \
         kto ma te kody, może dodać Twoją legitymację na swoim telefonie.\n\n",
        c.manual_code, c.activation_code
    );
    let en = format!(
        "Activation data (valid through {until}):\n\
         QR code: in this message — scan it with mObywatel from a computer screen.\n\
         Code to type: {}\nActivation code: {}\n\
         In mObywatel: \"+\" → \"Legitymacja studencka\" → scan the QR code or type the codes.\n\
         This message used one of the three views. Do not pass it on: \
         whoever has these codes can add your card to their phone.\n\n",
        c.manual_code, c.activation_code
    );
    (pl, en)
}

impl Mailer {
    /// The codes this e-mail carries, if the university mails them and the
    /// order is still ready with its codes unexpired (a card cancelled
    /// while the mail server was down gets the signal only).
    async fn codes(&self, delivery_id: &str, notice_id: &str) -> AppResult<Option<ActivationData>> {
        let row = sqlx::query(
            "SELECT e.sealed_codes, o.status, o.activation_expires_at, o.reveals \
             FROM email_deliveries e JOIN notices n ON n.id = e.notice_id \
             JOIN orders o ON o.id = n.order_id WHERE e.id = $1 AND n.id = $2",
        )
        .bind(delivery_id)
        .bind(notice_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(sealed) = row.try_get::<Option<String>, _>("sealed_codes")? else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        let expires_at: Option<i64> = row.try_get("activation_expires_at")?;
        let reveals: i64 = row.try_get("reveals")?;
        let now = self.clock.now_ms();
        match expires_at {
            Some(at) if status == OrderStatus::Ready.as_str() && at > now => {
                let left = legitka_wire::MAX_REVEALS
                    .saturating_sub(u8::try_from(reveals).unwrap_or(u8::MAX));
                Ok(Some(crate::orders::activation::open(
                    &self.secrets,
                    &sealed,
                    at,
                    left,
                )?))
            }
            _ => Ok(None),
        }
    }

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
        let codes = self.codes(&job.id, &notice_id).await?;
        let message = compose(&self.from, to, &first_name, kind, status, codes.as_ref())
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
            None,
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
