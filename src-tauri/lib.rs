//! The Legitka app shell: commands the UI calls, the HTTP client to the
//! university backend, the session in the OS keystore, live status events.

mod api;
mod commands;
mod error;
mod keystore;
mod links;
mod live;
mod notify;
mod session;
mod tls;
mod university;

#[cfg(test)]
mod shell_tests;

#[cfg(desktop)]
mod desktop;
#[cfg(mobile)]
mod mobile;
#[cfg(desktop)]
use desktop as platform;
#[cfg(mobile)]
use mobile as platform;

pub use session::Shell;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // Desktop: a `legitka://` link starts a second instance; it hands the
    // link to this one and exits (first, before any other plugin).
    #[cfg(desktop)]
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|_, _, _| {}));
    #[cfg(mobile)]
    let builder = tauri::Builder::default();
    run_app(builder);
}

/// Builds the app on any runtime, so tests can drive it with a mock runtime.
pub fn run_app<R: tauri::Runtime>(builder: tauri::Builder<R>) {
    app(builder)
        .run(tauri::generate_context!())
        .expect("error while running the Legitka app");
}

/// The app's plugins, state and commands on `builder`.
pub fn app<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    // reqwest is built without a default TLS provider: ring works on every target.
    let _ = rustls::crypto::ring::default_provider().install_default();
    commands::startup_mark("main");
    platform::plugins(builder)
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .manage(Shell::default())
        .manage(notify::News::default())
        .manage(links::Opened::default())
        .setup(|app| {
            links::follow(app.handle());
            Ok(())
        })
        .on_page_load(|_, load| {
            commands::startup_mark(match load.event() {
                tauri::webview::PageLoadEvent::Started => "page-started",
                tauri::webview::PageLoadEvent::Finished => "page-finished",
            });
        })
        .invoke_handler(tauri::generate_handler![
            university::app_config,
            university::check_university,
            commands::open_mobywatel,
            commands::notice_permission,
            commands::allow_notices,
            commands::first_paint,
            commands::restore_session,
            commands::sign_in,
            commands::sign_in_with_code,
            commands::sign_in_in_browser,
            links::take_opened_link,
            commands::sign_out,
            commands::student_state,
            commands::place_order,
            commands::reveal,
            commands::second_screen,
            commands::card_photo,
            commands::copy_text,
            commands::set_preferences,
            commands::register_push_token,
            commands::order_action,
            commands::order_timeline,
        ])
}
