//! The Legitka student UI: Yew in the Tauri webview.
//! Only [`invoke`] talks to Tauri; everything else works on wire types.

pub mod app;
pub mod invoke;
pub mod pages;
pub mod text;
pub mod time;

pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
