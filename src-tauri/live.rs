//! Follows the student's event stream and re-emits it to the UI as Tauri
//! events, reconnecting with backoff. The UI never has to refresh.

use crate::api::url;
use crate::notify::{self, News, emit};
use crate::session::Shell;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use legitka_wire::shell::events::{Connection, OrderStatus, Resync, SignedOut};
use legitka_wire::{StatusEvent, live, paths};
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};

enum End {
    /// The server refused this access token: renew it, then reconnect.
    Unauthorized(String),
    /// Network trouble or the stream ended: try again, after a pause that
    /// grows unless the stream had been working.
    Retry { was_open: bool },
}

/// Follows the current session's events until the session ends.
pub fn spawn<R: Runtime>(app: AppHandle<R>) -> tauri::async_runtime::JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        loop {
            let shell = app.state::<Shell>();
            let end = match shell.session() {
                Ok(s) => follow(&app, shell.api().streaming(), &s.server, &s.access_token).await,
                Err(_) => return,
            };
            match end {
                End::Unauthorized(stale) => {
                    if shell.refresh(&stale).await.is_err() {
                        emit(&app, SignedOut);
                        return;
                    }
                }
                End::Retry { was_open } => {
                    if was_open {
                        backoff = Duration::from_millis(500);
                    }
                    emit(&app, Connection { online: false });
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(15));
                }
            }
        }
    })
}

async fn follow<R: Runtime>(
    app: &AppHandle<R>,
    http: &reqwest::Client,
    server: &str,
    access_token: &str,
) -> End {
    let resp = match http
        .get(url(server, paths::EVENTS))
        .bearer_auth(access_token)
        .header("Accept", "text/event-stream")
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => return End::Retry { was_open: false },
    };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        return End::Unauthorized(access_token.to_owned());
    }
    if !resp.status().is_success() {
        return End::Retry { was_open: false };
    }
    emit(app, Connection { online: true });
    // Whatever changed while we were away, the UI reads it again.
    emit(app, Resync);
    let mut events = resp.bytes_stream().eventsource();
    let mut opening = true;
    while let Some(ev) = events.next().await {
        let Ok(ev) = ev else {
            return End::Retry { was_open: true };
        };
        let opens_stream = std::mem::replace(&mut opening, false);
        match ev.event.as_str() {
            live::STATUS => {
                if let Ok(StatusEvent { order }) = serde_json::from_str(&ev.data) {
                    if app.state::<News>().is_news(&order, opens_stream) {
                        notify::status_changed(app, &order);
                    }
                    emit(app, OrderStatus { order });
                }
            }
            live::RESYNC => emit(app, Resync),
            // The server ended the stream: a token or session that ended
            // is renewed at once (no "offline" in between); a server that
            // stops is a short outage.
            live::ENDED if ev.data != live::ENDED_STOPPING && ev.data != live::ENDED_REPLACED => {
                return End::Unauthorized(access_token.to_owned());
            }
            _ => {}
        }
    }
    End::Retry { was_open: true }
}
