//! Commands about the app itself. `app_info` is what the About line shows; it also proves, in the
//! end-to-end test, that the UI really reaches Rust through IPC. `autostart`/`set_autostart`:
//! whether the app starts with the desktop session, on this profile.

use ringside_core::BuildInfo;
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;

use crate::Error;

/// Whether the app starts with the desktop session.
#[tauri::command]
pub fn autostart(app: AppHandle) -> Result<bool, Error> {
    app.autolaunch()
        .is_enabled()
        .map_err(|e| Error::Internal(e.to_string()))
}

/// Starts the app with the desktop session (on this profile), or stops doing so.
#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> Result<bool, Error> {
    let launcher = app.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(enabled)
}

/// Name, version, protocol version and platform of this build.
///
/// It cannot fail today, but every command returns `Result<_, Error>` so the UI has one failure
/// path for all of them.
#[tauri::command]
pub fn app_info() -> Result<BuildInfo, Error> {
    Ok(BuildInfo::new(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_info_describes_this_build_of_the_desktop_app() {
        let info = app_info().unwrap();
        assert_eq!(
            info.name, "ringside-desktop",
            "the name is this crate's, not ringside-core's"
        );
        assert_eq!(
            info.version,
            env!("CARGO_PKG_VERSION"),
            "the version is the workspace's"
        );
        assert_eq!(
            info.protocol_version,
            ringside_core::PROTOCOL_VERSION,
            "the app speaks the protocol version ringside-core defines"
        );
    }
}
