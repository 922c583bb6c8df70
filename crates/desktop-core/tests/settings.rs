//! The agent's choices about pops, without a relay: kept in the profile across runs, applied to
//! the board at once, and a cap out of range refused with nothing changed.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ringside_core::wire::{PopOn, PopSettings};
use ringside_desktop_core::App;
use ringside_desktop_core::profile::Profile;

fn app(dir: &std::path::Path) -> App {
    App::new(
        Profile::open(dir).unwrap(),
        None,
        "Test PC".to_owned(),
        Arc::new(|_| {}),
    )
}

#[test]
fn settings_are_kept_across_runs_and_a_bad_cap_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = app(dir.path());
    assert_eq!(first.settings(), PopSettings::default());
    let chosen = PopSettings {
        cap: 5,
        pop_on: PopOn::Answer,
        close_on_hang_up: true,
        sound: false,
        notifications: false,
    };
    assert_eq!(first.set_settings(chosen).unwrap(), chosen);
    for cap in [0, 11] {
        let refused = first
            .set_settings(PopSettings { cap, ..chosen })
            .unwrap_err();
        assert_eq!(refused.code(), "invalid_input");
    }
    assert_eq!(first.settings(), chosen, "a refused change changes nothing");
    drop(first);

    assert_eq!(app(dir.path()).settings(), chosen, "kept in the profile");
    let json = std::fs::read_to_string(dir.path().join("profile.json")).unwrap();
    assert!(json.contains("\"pop_on\": \"answer\""), "{json}");
}

#[test]
fn the_pop_window_keeps_its_place_per_monitor() {
    let dir = tempfile::tempdir().unwrap();
    let first = app(dir.path());
    assert_eq!(first.pop_window_at("HDMI-1"), None, "not placed yet");
    first.remember_pop_window_at("HDMI-1", (1500, 40)).unwrap();
    first.remember_pop_window_at("eDP-1", (20, 700)).unwrap();
    drop(first);
    let again = app(dir.path());
    assert_eq!(again.pop_window_at("HDMI-1"), Some((1500, 40)));
    assert_eq!(again.pop_window_at("eDP-1"), Some((20, 700)));
    assert_eq!(again.pop_window_at("DP-2"), None);
}
