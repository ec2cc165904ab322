//! The Legitka student UI: Yew in the Tauri webview.
//! Only [`invoke`] talks to Tauri; everything else works on wire types.

pub mod app;
pub mod components;
pub mod flows;
pub mod hooks;
pub mod i18n;
pub mod invoke;
pub mod pages;
pub mod state;
pub mod storage;
pub mod text;
pub mod time;

pub fn start() {
    invoke::first_paint("wasm");
    yew::Renderer::<app::App>::new().render();
}
