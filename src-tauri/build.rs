/// The app's own commands. Listing them makes each one a permission
/// (`allow-<command>`) that a capability must grant: a window calls only
/// what its capability names (`src-tauri/capabilities/`).
const COMMANDS: &[&str] = &[
    "app_config",
    "check_university",
    "open_mobywatel",
    "notice_permission",
    "allow_notices",
    "first_paint",
    "restore_session",
    "sign_in",
    "sign_in_with_code",
    "sign_in_in_browser",
    "take_opened_link",
    "sign_out",
    "student_state",
    "place_order",
    "reveal",
    "second_screen",
    "card_photo",
    "copy_text",
    "set_preferences",
    "register_push_token",
    "order_action",
    "order_timeline",
];

fn main() {
    // Capabilities live beside the shell's sources, not at the repository root.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
