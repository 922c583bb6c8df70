//! The profile folder: the agent's settings and the highest `seq` handled per relay and user —
//! nothing that names a person. Tokens live in the keychain ([`crate::keychain`]); pops only
//! sealed, in the cache beside it (`pops.db`, [`crate::cache`]), for their 5 minutes.
//!
//! One folder per instance (`--profile DIR`; by default `$XDG_DATA_HOME/ringside-desktop`, else
//! `~/.local/share/ringside-desktop`), created mode 0700, so several instances and the tests
//! never share state. Its id (random, made on first use) names its keychain entries.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ringside_core::wire::PopSettings;
use serde::{Deserialize, Serialize};

/// What the agent chose, kept across runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The relay this profile signs in to.
    pub relay_url: Option<String>,
    /// About pops (the Settings screen).
    #[serde(flatten)]
    pub pops: PopSettings,
    /// Where the agent last put the pop window, per monitor (by the monitor's name): physical
    /// pixels of its top-left corner.
    pub pop_window_at: BTreeMap<String, (i32, i32)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Stored {
    id: String,
    settings: Settings,
    /// `"{relay} {user}"` → the highest `seq` handled.
    handled: BTreeMap<String, u64>,
}

/// An opened profile folder.
#[derive(Debug)]
pub struct Profile {
    dir: PathBuf,
    stored: Stored,
}

const FILE: &str = "profile.json";

impl Profile {
    /// The default folder for this user.
    #[must_use]
    pub fn default_dir() -> PathBuf {
        let data = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(std::env::temp_dir);
        data.join("ringside-desktop")
    }

    /// Opens (creating, mode 0700) the profile in `dir`.
    ///
    /// # Errors
    /// When the folder cannot be created or its file read.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(FILE);
        let mut stored: Stored = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::default(),
            Err(e) => return Err(e),
        };
        let fresh = stored.id.is_empty();
        if fresh {
            stored.id = ringside_core::random_bytes::<8>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        }
        let profile = Self {
            dir: dir.to_owned(),
            stored,
        };
        if fresh {
            profile.write()?;
        }
        Ok(profile)
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its id (names its keychain entries).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.stored.id
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.stored.settings
    }

    /// Changes the settings and writes them.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn update(&mut self, change: impl FnOnce(&mut Settings)) -> std::io::Result<()> {
        change(&mut self.stored.settings);
        self.write()
    }

    /// The highest `seq` handled for `user` on `relay` (0: none).
    #[must_use]
    pub fn handled(&self, relay: &str, user: &str) -> u64 {
        self.stored
            .handled
            .get(&format!("{relay} {user}"))
            .copied()
            .unwrap_or(0)
    }

    /// Records the highest `seq` handled (only ever higher).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn set_handled(&mut self, relay: &str, user: &str, seq: u64) -> std::io::Result<()> {
        let slot = self
            .stored
            .handled
            .entry(format!("{relay} {user}"))
            .or_default();
        if seq <= *slot {
            return Ok(());
        }
        *slot = seq;
        self.write()
    }

    fn write(&self) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(&self.stored).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        {
            use std::io::Write as _;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
        }
        fs::rename(tmp, self.dir.join(FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_keeps_its_id_settings_and_handled_seq_across_opens_and_only_grows_the_seq() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        let mut profile = Profile::open(&path).unwrap();
        let id = profile.id().to_owned();
        assert_eq!(id.len(), 16);
        profile
            .update(|s| s.relay_url = Some("https://relay.example".to_owned()))
            .unwrap();
        profile
            .set_handled("https://relay.example", "usr_1", 12)
            .unwrap();
        profile
            .set_handled("https://relay.example", "usr_1", 3)
            .unwrap();

        let again = Profile::open(&path).unwrap();
        assert_eq!(again.id(), id);
        assert_eq!(
            again.settings().relay_url.as_deref(),
            Some("https://relay.example")
        );
        assert_eq!(
            again.handled("https://relay.example", "usr_1"),
            12,
            "never backwards"
        );
        assert_eq!(again.handled("https://other.example", "usr_1"), 0);
        let mode = fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o700
        );
    }
}
