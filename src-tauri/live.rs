//! Follows the student's event stream and re-emits it to the UI as Tauri
//! events, reconnecting with backoff. The UI never has to refresh.

use crate::api::url;
use crate::commands::Shell;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use legitka_wire::StatusEvent;
use serde::Serialize;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// UI event: an order changed.
pub const ORDER_STATUS: &str = "order-status";
/// UI event: read the whole state again (stream lagged or reconnected).
pub const RESYNC: &str = "resync";
/// UI event: the stream is up or down.
pub const CONNECTION: &str = "connection";
/// UI event: the server no longer accepts the session.
pub const SIGNED_OUT: &str = "signed-out";

#[derive(Serialize, Clone)]
pub struct Connection {
    pub online: bool,
}

enum End {
    /// The server refused this access token: renew it, then reconnect.
    Unauthorized(String),
    /// Network trouble or the stream ended: try again.
    Retry,
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
                        let _ = app.emit(SIGNED_OUT, ());
                        return;
                    }
                }
                End::Retry => {
                    let _ = app.emit(CONNECTION, Connection { online: false });
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
        .get(url(server, "/events"))
        .bearer_auth(access_token)
        .header("Accept", "text/event-stream")
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => return End::Retry,
    };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        return End::Unauthorized(access_token.to_owned());
    }
    if !resp.status().is_success() {
        return End::Retry;
    }
    let _ = app.emit(CONNECTION, Connection { online: true });
    // Whatever changed while we were away, the UI reads it again.
    let _ = app.emit(RESYNC, ());
    let mut events = resp.bytes_stream().eventsource();
    let mut opening = true;
    while let Some(ev) = events.next().await {
        let Ok(ev) = ev else { return End::Retry };
        let opens_stream = std::mem::replace(&mut opening, false);
        match ev.event.as_str() {
            "status" => {
                if let Ok(status) = serde_json::from_str::<StatusEvent>(&ev.data) {
                    if app.state::<Shell>().is_news(&status.order, opens_stream) {
                        crate::notify::status_changed(app, &status.order);
                    }
                    let _ = app.emit(ORDER_STATUS, status);
                }
            }
            "resync" => {
                let _ = app.emit(RESYNC, ());
            }
            _ => {}
        }
    }
    End::Retry
}
