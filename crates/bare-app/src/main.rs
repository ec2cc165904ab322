//! The start-up benchmark's baseline (`scripts/startup-bench`): a Tauri app
//! of the same Tauri version and release profile as Legitka, whose page is
//! static. It prints the same marks as the app's start-up probe (`startup
//! <stage> <unix ms>`): `main`, the page load starting and finishing, and
//! `splash` once the page is painted, then quits.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn mark(stage: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    println!("startup {stage} {now}");
}

#[tauri::command]
fn painted<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    mark("splash");
    app.exit(0);
}

fn main() {
    mark("main");
    tauri::Builder::default()
        .on_page_load(|_, load| {
            mark(match load.event() {
                tauri::webview::PageLoadEvent::Started => "page-started",
                tauri::webview::PageLoadEvent::Finished => "page-finished",
            });
        })
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
        .expect("the bare app runs");
}
