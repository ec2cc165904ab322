//! The admin CLI as the IT team runs it: the real binary, settings from the
//! environment, on SQLite and PostgreSQL.

mod common;

use common::{Db, database_url, spawn_app};
use legitka_server::auth::hash_password;
use legitka_server::pesel::Pesel;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

both!(
    a_good_csv_imports_and_show_masks_the_pesel,
    a_csv_with_bad_rows_imports_nothing_and_names_each_row,
    extend_els_and_remove_change_the_registry,
    the_admin_tools_changes_reach_an_open_app_within_a_second,
);

const KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

struct Cli {
    db_url: String,
    dir: tempfile::TempDir,
}

impl Cli {
    /// A new database, brought up to date by `migrate` as an operator would.
    async fn new(db: Db) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cli = Self {
            db_url: database_url(db, &dir).await,
            dir,
        };
        let o = cli.run(&["migrate"]);
        assert!(o.status.success(), "{}", err(&o));
        assert!(out(&o).contains("schema up to date"), "{}", out(&o));
        cli
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_legitka-server"))
            .args(args)
            .env("APP_DATABASE_URL", &self.db_url)
            .env("APP_ACTIVATION_KEY", KEY)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    fn csv(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEADER: &str = "username,password_hash,first_name,last_name,pesel,album_number,active,has_photo,els_number,els_valid_until,els_issued_at,data_changed_at,study_level";

async fn row(username: &str, pesel: &str, extra: &str) -> String {
    let hash = hash_password("secret".into()).await.unwrap();
    format!("{username},\"{hash}\",Jan,Kowalski,{pesel},{extra}")
}

#[test]
fn every_subcommand_has_help() {
    let bin = env!("CARGO_BIN_EXE_legitka-server");
    for sub in [
        "serve",
        "import-students",
        "extend-els",
        "remove",
        "show",
        "demo-data",
        "hash-password",
        "migrate",
        "check-config",
        "erase",
        "stats",
        "dead-letters",
        "prune",
        "rotate-key",
        "backup",
    ] {
        let o = Command::new(bin).args([sub, "--help"]).output().unwrap();
        assert!(o.status.success(), "{sub}");
        assert!(out(&o).contains("Usage:"), "{sub}: {}", out(&o));
    }
    let o = Command::new(bin).arg("--help").output().unwrap();
    assert!(out(&o).contains("APP_ACTIVATION_KEY"));
}

#[test]
fn without_a_key_the_cli_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_legitka-server"))
        .args(["show", "anna"])
        .env(
            "APP_DATABASE_URL",
            format!("sqlite://{}/x.db", dir.path().display()),
        )
        .env_remove("APP_ACTIVATION_KEY")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(err(&o).contains("APP_ACTIVATION_KEY"), "{}", err(&o));
}

async fn a_good_csv_imports_and_show_masks_the_pesel(db: Db) {
    let cli = Cli::new(db).await;
    let pesel = Pesel::with_check_digit("0321081234").unwrap();
    let csv = format!(
        "{HEADER}\n{}\n{}\n",
        row(
            "jan",
            pesel.expose(),
            "123456,true,yes,ELS/1,2027-03-31,2025-10-01,,first_cycle"
        )
        .await,
        row("ola", "", ",true,false,,,,,second_cycle").await,
    );
    let o = cli.run(&["import-students", &cli.csv("good.csv", &csv)]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "imported: 2 new, 0 updated");
    // The same file again updates instead of duplicating.
    let o = cli.run(&["import-students", &cli.csv("good.csv", &csv)]);
    assert_eq!(out(&o).trim(), "imported: 0 new, 2 updated");

    let o = cli.run(&["show", "jan"]);
    let shown = out(&o);
    assert!(o.status.success(), "{}", err(&o));
    assert!(shown.contains("Jan Kowalski (jan)"), "{shown}");
    // Through 31 March, as the CSV says (not the day after).
    assert!(shown.contains("ELS valid until 2027-03-31"), "{shown}");
    assert!(shown.contains("eligible: yes"), "{shown}");
    assert!(!shown.contains(pesel.expose()), "{shown}");
    assert!(
        shown.contains(&format!("*********{}", &pesel.expose()[9..])),
        "{shown}"
    );
    let o = cli.run(&["show", "ola"]);
    assert!(out(&o).contains("eligible: no"), "{}", out(&o));
    assert!(
        out(&o).contains("HasPhoto") && out(&o).contains("HasEls"),
        "{}",
        out(&o)
    );
}

async fn a_csv_with_bad_rows_imports_nothing_and_names_each_row(db: Db) {
    let cli = Cli::new(db).await;
    let good = Pesel::with_check_digit("0321081234").unwrap();
    let mut bad_pesel = good.expose().to_owned();
    bad_pesel.replace_range(10.., if bad_pesel.ends_with('0') { "1" } else { "0" });
    let csv = format!(
        "{HEADER}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        row(
            "jan",
            good.expose(),
            "1,true,true,ELS/1,2027-03-31,,,first_cycle"
        )
        .await, // line 2 ok
        row(
            "bad1",
            &bad_pesel,
            "2,true,true,ELS/2,2027-03-31,,,first_cycle"
        )
        .await, // 3: checksum
        row("bad2", "", "3,maybe,true,,,,,first_cycle").await, // 4: flag
        row("bad3", "", "4,true,true,ELS/4,31.03.2027,,,first_cycle").await, // 5: date
        row("bad4", "", "5,true,true,,,,,phd").await,          // 6: level
        row(
            "jan",
            good.expose(),
            "1,true,true,ELS/1,2027-03-31,,,first_cycle"
        )
        .await, // 7: repeat
    );
    let o = cli.run(&["import-students", &cli.csv("bad.csv", &csv)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let e = err(&o);
    assert!(e.contains("nothing was imported: 5 bad row(s)"), "{e}");
    for (line, words) in [
        (3, "check digit"),
        (4, "active"),
        (5, "YYYY-MM-DD"),
        (6, "study_level"),
        (7, "repeats line 2"),
    ] {
        let l = e
            .lines()
            .find(|l| l.contains(&format!("line {line}:")))
            .unwrap_or_else(|| panic!("line {line} not reported: {e}"));
        assert!(l.contains(words), "{l}");
    }
    assert!(!e.contains(&bad_pesel), "a PESEL in the report: {e}");
    // All or nothing: even the good row is not there.
    let o = cli.run(&["show", "jan"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("no student \"jan\""), "{}", err(&o));
}

async fn extend_els_and_remove_change_the_registry(db: Db) {
    let cli = Cli::new(db).await;
    assert!(cli.run(&["demo-data"]).status.success());
    let o = cli.run(&["show", "bartek"]);
    assert!(out(&o).contains("eligible: no"), "{}", out(&o));
    let o = cli.run(&["extend-els", "bartek", "--until", "2099-03-31"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o).trim(),
        "bartek: ELS valid until 2099-03-31 (through that day)"
    );
    let o = cli.run(&["show", "bartek"]);
    assert!(out(&o).contains("eligible: yes"), "{}", out(&o));
    assert!(
        out(&o).contains("ELS valid until 2099-03-31"),
        "{}",
        out(&o)
    );
    // A day gone by is a typo, not an extension.
    let o = cli.run(&["extend-els", "bartek", "--until", "2020-09-30"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("2020-09-30 is in the past"), "{}", err(&o));
    let o = cli.run(&["show", "bartek"]);
    assert!(
        out(&o).contains("ELS valid until 2099-03-31"),
        "{}",
        out(&o)
    );
    // A duplicate ELS: recorded with its number.
    let o = cli.run(&["els-duplicate", "bartek", "--number", "ELS/D/7"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "bartek: duplicate ELS ELS/D/7 recorded");

    let o = cli.run(&["remove", "bartek", "--reason", "graduated"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = cli.run(&["show", "bartek"]);
    assert!(out(&o).contains("failed: ActiveStudent"), "{}", out(&o));
    let o = cli.run(&["extend-els", "nobody", "--until", "2099-03-31"]);
    assert!(err(&o).contains("no student \"nobody\""), "{}", err(&o));
    let o = cli.run(&["extend-els", "anna", "--until", "someday"]);
    assert!(err(&o).contains("YYYY-MM-DD"), "{}", err(&o));
}

/// Reads the live stream until `want` appears in it (or the deadline).
async fn stream_says(stream: &mut reqwest::Response, want: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    while Instant::now() < deadline {
        match tokio::time::timeout(deadline - Instant::now(), stream.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains(want) {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

async fn the_admin_tools_changes_reach_an_open_app_within_a_second(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.ready_order("anna").await;
    let mut stream = app
        .http
        .get(app.url("/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(stream_says(&mut stream, "\"status\":\"ready\"", Duration::from_secs(5)).await);
    // The IT team runs the admin tool (another process) on the server's database.
    let cli = Cli {
        db_url: app.state.settings.database_url.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let o = cli.run(&["remove", "anna", "--reason", "removed"]);
    assert!(o.status.success(), "{}", err(&o));
    let told = Instant::now();
    assert!(
        stream_says(
            &mut stream,
            "\"status\":\"cancelled\"",
            Duration::from_secs(2)
        )
        .await,
        "the removal never reached the open stream"
    );
    assert!(
        told.elapsed() < Duration::from_secs(1),
        "{:?}",
        told.elapsed()
    );
    // And the status read knows at once too (signed in again: the removal
    // ended her sessions).
    let token = app.sign_in("anna").await;
    let me = app.me(&token).await;
    assert_eq!(
        me.order.unwrap().status,
        legitka_wire::OrderStatus::Cancelled
    );
}
