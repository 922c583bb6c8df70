//! The demo's view of what happens after each call: the note landing in the sandbox AMS, the
//! call's personal data purged, and what the relay still holds (`retention report`), printed as
//! it happens. Read from the store like any second reader would (`sync list`), and from the
//! sandbox's own record of the activities it received.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ringside_ams::sandbox::Sandbox;
use ringside_core::{CallId, SystemClock};
use ringside_store::{Store, SyncRow, SyncState};
use tokio::sync::watch;

/// How often the outbox is looked at.
const EVERY: Duration = Duration::from_millis(500);

/// The states worth a line.
const SHOWN: [SyncState; 5] = [
    SyncState::Done,
    SyncState::Skipped,
    SyncState::Held,
    SyncState::Dead,
    SyncState::Expired,
];

/// Prints a line for each call whose sync ends (or needs someone), until `stopped`.
pub(super) async fn follow(
    data_dir: PathBuf,
    sandbox: Sandbox,
    mut stopped: watch::Receiver<bool>,
) {
    let store = match Store::open(&data_dir, Arc::new(SystemClock)) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("the demo cannot follow the sync: {e}");
            return;
        }
    };
    let mut seen: HashSet<(CallId, &'static str)> = HashSet::new();
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        let Ok(rows) = store.sync().list_syncs(None, &SHOWN, 10_000) else {
            continue;
        };
        let mut printed = false;
        for row in rows {
            if seen.insert((row.call, row.state.as_str())) {
                println!("{}", line(&row, &sandbox));
                printed = true;
            }
        }
        if printed && let Ok(kinds) = store.sync().retention(None) {
            let held: Vec<String> = kinds
                .iter()
                .map(|k| format!("{} {}", k.records, k.kind))
                .collect();
            println!(
                "          still held (retention report): {}",
                held.join(", ")
            );
        }
    }
}

fn line(row: &SyncRow, sandbox: &Sandbox) -> String {
    let number = row.number_masked.as_deref().unwrap_or("a withheld number");
    match row.state {
        SyncState::Done => {
            let reference = format!("Ringside ref: {}", row.call);
            let activity = sandbox
                .activities()
                .into_iter()
                .find(|a| a.notes.first().is_some_and(|n| n.starts_with(&reference)));
            let what = activity.map_or_else(String::new, |a| {
                format!(" as activity {} (\"{}\")", a.id, a.description)
            });
            format!(
                "note      {number}  in the sandbox AMS{what}; the call's personal data is purged"
            )
        }
        SyncState::Skipped => format!(
            "no note   {number}  matches no AMS record: nothing written, personal data purged"
        ),
        SyncState::Held => format!(
            "held      {}  several AMS records match and no one picked: `ringside-relay sync list`",
            row.call
        ),
        SyncState::Dead => format!(
            "dead      {}  the AMS refused the note ({}): `ringside-relay sync list`",
            row.call,
            row.reason.as_deref().unwrap_or("unknown")
        ),
        _ => format!("expired   {}  unsynced for 30 days: purged", row.call),
    }
}

/// Waits (up to a minute) until no call's sync is still to come, and the last lines are out:
/// a demo asked for N calls ends after their notes, not before.
pub(super) async fn settle(data_dir: PathBuf) {
    let Ok(store) = Store::open(&data_dir, Arc::new(SystemClock)) else {
        return;
    };
    for _ in 0..120 {
        let waiting = store
            .sync()
            .list_syncs(None, &[SyncState::Pending, SyncState::Writing], 1)
            .map_or(0, |rows| rows.len());
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(EVERY).await;
    }
    tokio::time::sleep(EVERY * 2).await;
}
