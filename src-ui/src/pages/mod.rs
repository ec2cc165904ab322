pub mod home;
pub mod ready;
pub mod settings;
pub mod sign_in;
pub mod welcome;

// The shell's event names (src-tauri/live.rs).
pub const EVENT_ORDER_STATUS: &str = "order-status";
pub const EVENT_RESYNC: &str = "resync";
pub const EVENT_CONNECTION: &str = "connection";
pub const EVENT_SIGNED_OUT: &str = "signed-out";
/// A tapped notice (src-tauri/notify.rs).
pub const EVENT_OPEN_ORDER: &str = "open-order";
