//! The live event stream (SSE) of one student's status changes.

use crate::auth::AuthStudent;
use crate::error::AppResult;
use crate::orders::store;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use legitka_wire::{StatusEvent, live};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

#[utoipa::path(get, path = "/api/v1/events", tag = "student", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream: `status` events carry a StatusEvent; `hello` and `resync` carry `{}`", content_type = "text/event-stream", body = StatusEvent),
        (status = 401, description = "not signed in", body = legitka_wire::ApiError)))]
/// Opens with a `status` event for the current order (or `hello` if there is
/// none), so a reconnecting client is in sync at once; then one `status`
/// event per change. If the stream fell behind, a `resync` tells the client
/// to read its state again. The stream ends when its session ends (sign-out
/// at once; elsewhere within `RECHECK`), when the access token it was
/// opened with expires, and when the server stops: the app reconnects
/// with a fresh token.
pub async fn stream(
    State(state): State<AppState>,
    who: AuthStudent,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading the current state, so no change falls between.
    let rx = state.feed.subscribe();
    let first = match store::current(&state.db, &who.id).await? {
        Some(order) => status_event(StatusEvent { order }),
        None => Event::default().event(live::HELLO).data("{}"),
    };
    let student = who.id;
    let slot = state.streams.open(&student);
    let ends = ends(state.clone(), who.session_id, who.expires_at, slot);
    // A USOS student's order is watched more often while this stream is open.
    let presence = app_open(state, student.clone());
    let changes = BroadcastStream::new(rx).filter_map(move |n| {
        let ev = match n {
            Ok(n) if n.student_id == student => Some(status_event(StatusEvent { order: n.order })),
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(_)) => {
                Some(Event::default().event(live::RESYNC).data("{}"))
            }
        };
        std::future::ready(ev.map(Ok))
    });
    // Ending, the stream says why in a last event, so the app renews its
    // token at once instead of taking it for a lost connection.
    // (`None` after it closes the stream.)
    let last = stream::once(ends).flat_map(|why| {
        stream::iter([
            Some(Ok(Event::default().event(live::ENDED).data(why))),
            None,
        ])
    });
    let events = stream::once(std::future::ready(Ok(first)))
        .chain(stream::select(changes, presence))
        .map(Some);
    let events = stream::select(events, last)
        .take_while(|item| std::future::ready(item.is_some()))
        .filter_map(std::future::ready);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How often a stream checks that its session still stands (sessions
/// ended by another process: the admin tool, a second instance).
const RECHECK: Duration = Duration::from_secs(15);

/// Resolves when the stream must end, with why (`live::ENDED_…`): its
/// session ended, its token expired, or the server is stopping.
async fn ends(
    state: AppState,
    session_id: String,
    expires_at: i64,
    slot: crate::feed::StreamSlot,
) -> &'static str {
    let mut ended = state.session_ends.subscribe();
    let mut stopping = state.stopping.subscribe();
    loop {
        if *stopping.borrow() {
            return live::ENDED_STOPPING;
        }
        let left = expires_at - state.clock.now_ms();
        if left <= 0 {
            return live::ENDED_TOKEN;
        }
        let wait = RECHECK.min(Duration::from_millis(u64::try_from(left).unwrap_or(0)));
        // Whether to ask the database if the session still stands: at each
        // recheck, and when the news of ended sessions fell behind.
        let ask = tokio::select! {
            () = tokio::time::sleep(wait) => true,
            id = ended.recv() => match id {
                Ok(id) if *id == *session_id => return live::ENDED_SESSION,
                Ok(_) => false,
                Err(_) => true,
            },
            _ = stopping.changed() => return live::ENDED_STOPPING,
            () = slot.replaced.notified() => return live::ENDED_REPLACED,
        };
        if ask
            && !crate::auth::session_live(&state, &session_id)
                .await
                .unwrap_or(true)
        {
            return live::ENDED_SESSION;
        }
    }
}

/// How long one sign of an open app counts; the stream renews it sooner.
const OPEN_FOR: Duration = Duration::from_secs(90);
const RENEW_EVERY: Duration = Duration::from_secs(60);

/// Tells the USOS watcher, now and every minute while the stream lasts,
/// that the student's app is open. Yields no events.
fn app_open(state: AppState, student: String) -> impl Stream<Item = Result<Event, Infallible>> {
    let ticks = tokio_stream::wrappers::IntervalStream::new(tokio::time::interval(RENEW_EVERY));
    ticks.filter_map(move |_| {
        let (state, student) = (state.clone(), student.clone());
        async move {
            if !state.usos.is_empty() {
                let now = state.clock.now_ms();
                let until = now + i64::try_from(OPEN_FOR.as_millis()).unwrap_or(i64::MAX);
                if let Err(e) = crate::usos::store::app_open(&state.db, &student, now, until).await
                {
                    tracing::warn!(error = %e, "marking the app open for the USOS watcher");
                }
            }
            None
        }
    })
}

fn status_event(e: StatusEvent) -> Event {
    Event::default()
        .event(live::STATUS)
        .json_data(e)
        .unwrap_or_else(|_| Event::default().event(live::RESYNC).data("{}"))
}
