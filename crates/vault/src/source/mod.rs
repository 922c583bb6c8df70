//! Where the master keys live. One enum, parsed from one configuration string, so the relay's
//! config layer needs no knowledge of keychains or file permissions:
//!
//! | config string       | source                                                              |
//! |---------------------|---------------------------------------------------------------------|
//! | `keychain`          | OS keychain, service `ringside-relay`                               |
//! | `keychain:SERVICE`  | OS keychain, service `SERVICE`                                      |
//! | `file:PATH`         | key file at `PATH` (mode 0600 or stricter; no `~` expansion)        |
//! | `env`               | environment variable `RINGSIDE_MASTER_KEY` (read-only)              |
//! | `env:VAR`           | environment variable `VAR` (read-only)                              |
//!
//! Parse errors never repeat the configured string, in case a key was pasted there by mistake.
//! The sources differ in what they can do — the keychain and the file can be written (so the
//! relay can create the first key and rotate by itself), the environment cannot (the operator
//! adds and removes keys there) — but all answer the same five operations.

mod env;
mod file;
mod keychain;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::master::{MasterKey, MasterKeyVersion, MasterKeyring};

/// The keychain service name when the config says just `keychain`.
pub const DEFAULT_KEYCHAIN_SERVICE: &str = "ringside-relay";
/// The environment variable when the config says just `env`.
pub const DEFAULT_ENV_VAR: &str = "RINGSIDE_MASTER_KEY";

/// A place master keys are loaded from and (if writable) stored in.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// The OS keychain (Secret Service on Linux): one entry per version under `service`, users
    /// `master-key-v{N}`, plus an index entry `master-key-index`.
    Keychain {
        /// The keychain service name.
        service: String,
    },
    /// A text file, one `ringside-master-key:v{N}:{base64}` line per version.
    File {
        /// The file.
        path: PathBuf,
    },
    /// An environment variable holding entries separated by whitespace. Read-only.
    Env {
        /// The variable name.
        var: String,
    },
}

impl KeySource {
    /// Every master-key version the source holds. [`Error::NoMasterKey`] if it holds none.
    pub fn load(&self) -> Result<MasterKeyring> {
        MasterKeyring::from_keys(self.read()?)?.ok_or_else(|| self.no_master_key())
    }

    /// Like [`KeySource::load`], but a writable source that holds no key gets version 1 created
    /// and stored first. For a new installation only: when the store already holds wrapped keys,
    /// use `load`, because a new master key cannot open them.
    pub fn load_or_create(&self) -> Result<MasterKeyring> {
        if let Some(ring) = MasterKeyring::from_keys(self.read()?)? {
            return Ok(ring);
        }
        if matches!(self, Self::Env { .. }) {
            return Err(self.no_master_key());
        }
        let key = MasterKey::generate(MasterKeyVersion::FIRST);
        self.store_version(&key)?;
        Ok(MasterKeyring::single(key))
    }

    /// Stores a new master-key version. An existing version is never overwritten
    /// ([`Error::MasterVersionExists`]); the environment answers [`Error::KeySourceReadOnly`].
    pub fn store_version(&self, key: &MasterKey) -> Result<()> {
        match self {
            Self::Keychain { service } => keychain::store(service, key),
            Self::File { path } => file::store(path, key),
            Self::Env { var } => Err(env::read_only_store(var, key.version())),
        }
    }

    /// Removes one version from the source. Already absent is fine (so an interrupted retire
    /// can be repeated); removing the last version is refused ([`Error::LastMasterVersion`]).
    pub fn retire_version(&self, version: MasterKeyVersion) -> Result<()> {
        match self {
            Self::Keychain { service } => keychain::retire(service, |v| v == version),
            Self::File { path } => file::retire(path, |v| v == version),
            Self::Env { var } => env::read_only_retire(var, |v| v == version),
        }
        .map(drop)
    }

    /// Removes every version older than `target`, which must be present. Returns the versions
    /// removed. For the keychain this also deletes entries an interrupted earlier retire left
    /// behind, so finishing a rotation always leaves no old key anywhere.
    pub fn retire_versions_before(
        &self,
        target: MasterKeyVersion,
    ) -> Result<Vec<MasterKeyVersion>> {
        let keep = |v: MasterKeyVersion| v >= target;
        match self {
            Self::Keychain { service } => keychain::retire_before(service, target),
            Self::File { path } => file::retire_before(path, target, keep),
            Self::Env { var } => env::read_only_retire(var, |v| !keep(v)),
        }
    }

    /// `false` for the environment: keys are added and removed there by the operator.
    pub fn is_writable(&self) -> bool {
        !matches!(self, Self::Env { .. })
    }

    fn read(&self) -> Result<Vec<MasterKey>> {
        match self {
            Self::Keychain { service } => keychain::load(service),
            Self::File { path } => file::load(path),
            Self::Env { var } => env::load(var),
        }
    }

    fn no_master_key(&self) -> Error {
        let hint = match self {
            Self::Keychain { .. } | Self::File { .. } => {
                "a new installation creates one on first start; if this relay already has data, \
                 restore the master key from your backup (a new key cannot open existing data)"
                    .to_owned()
            }
            Self::Env { var } => env::missing_hint(var),
        };
        Error::NoMasterKey {
            origin: self.to_string(),
            hint,
        }
    }
}

impl fmt::Display for KeySource {
    /// The config string; parsing it gives the same source back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keychain { service } => write!(f, "keychain:{service}"),
            Self::File { path } => write!(f, "file:{}", path.display()),
            Self::Env { var } => write!(f, "env:{var}"),
        }
    }
}

impl FromStr for KeySource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let (scheme, arg) = match s.split_once(':') {
            Some((scheme, arg)) => (scheme, Some(arg)),
            None => (s, None),
        };
        let invalid = |reason: String| Error::InvalidKeySource { reason };
        match (scheme, arg) {
            ("keychain", None) => Ok(Self::Keychain {
                service: DEFAULT_KEYCHAIN_SERVICE.to_owned(),
            }),
            ("keychain", Some(service)) if !service.trim().is_empty() => Ok(Self::Keychain {
                service: service.to_owned(),
            }),
            ("keychain", Some(_)) => Err(invalid("`keychain:` needs a service name".to_owned())),
            ("file", Some(path)) if !path.is_empty() => Ok(Self::File { path: path.into() }),
            ("file", _) => Err(invalid(
                "`file:` needs a path, e.g. `file:/etc/ringside/master.keys`".to_owned(),
            )),
            ("env", None) => Ok(Self::Env {
                var: DEFAULT_ENV_VAR.to_owned(),
            }),
            ("env", Some(var)) if is_env_name(var) => Ok(Self::Env {
                var: var.to_owned(),
            }),
            ("env", Some(_)) => Err(invalid(
                "`env:` needs a variable name of letters, digits and `_`, not starting with a \
                 digit"
                    .to_owned(),
            )),
            _ => Err(invalid(format!(
                "expected `keychain`, `keychain:SERVICE`, `file:PATH`, `env` or `env:VAR`{}",
                // Name the scheme only when it is short and plain, so a pasted key never appears.
                if scheme.len() <= 16 && scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
                    format!(" (got `{scheme}`)")
                } else {
                    String::new()
                }
            ))),
        }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl serde::Serialize for KeySource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeySource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Refuses to remove the last version: the shared rule of every writable source.
fn check_not_last(
    versions: &[MasterKeyVersion],
    remove: &dyn Fn(MasterKeyVersion) -> bool,
) -> Result<()> {
    match versions.iter().copied().filter(|v| !remove(*v)).count() {
        0 => Err(Error::LastMasterVersion(
            versions
                .iter()
                .copied()
                .max()
                .unwrap_or(MasterKeyVersion::FIRST),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_strings_parse_to_sources_and_display_back() {
        for (text, source) in [
            (
                "keychain",
                KeySource::Keychain {
                    service: "ringside-relay".to_owned(),
                },
            ),
            (
                "keychain:acme",
                KeySource::Keychain {
                    service: "acme".to_owned(),
                },
            ),
            (
                "file:/etc/ringside/master.keys",
                KeySource::File {
                    path: "/etc/ringside/master.keys".into(),
                },
            ),
            (
                "file:rel/k:eys",
                KeySource::File {
                    path: "rel/k:eys".into(),
                },
            ),
            (
                "env",
                KeySource::Env {
                    var: "RINGSIDE_MASTER_KEY".to_owned(),
                },
            ),
            (
                " env:MY_KEY ",
                KeySource::Env {
                    var: "MY_KEY".to_owned(),
                },
            ),
        ] {
            let parsed: KeySource = text.parse().unwrap();
            assert_eq!(parsed, source, "{text:?} parses");
            let again: KeySource = parsed.to_string().parse().unwrap();
            assert_eq!(
                again, source,
                "Display of {text:?} parses back to the same source"
            );
        }
    }

    #[test]
    fn bad_config_strings_are_refused_without_echoing_them() {
        for bad in [
            "",
            "keychain:",
            "file",
            "file:",
            "env:",
            "env:1X",
            "env:A-B",
            "vault:x",
            "ringside-master-key:v1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
        ] {
            let err = bad.parse::<KeySource>().expect_err(bad).to_string();
            assert!(
                err.starts_with("invalid master-key source"),
                "clear error for {bad:?}: {err}"
            );
            assert!(
                !err.contains("QUFB"),
                "a pasted key must not be echoed: {err}"
            );
        }
        let err = "vault:x".parse::<KeySource>().unwrap_err().to_string();
        assert!(
            err.contains("`vault`") && err.contains("file:PATH"),
            "names scheme and syntax: {err}"
        );
    }

    #[test]
    fn sources_serialize_as_their_config_string() {
        let source = KeySource::File { path: "/k".into() };
        let json = serde_json::to_string(&source).unwrap();
        assert_eq!(json, "\"file:/k\"", "serialized as the config string");
        let back: KeySource = serde_json::from_str("\"keychain\"").unwrap();
        assert_eq!(
            back,
            KeySource::Keychain {
                service: DEFAULT_KEYCHAIN_SERVICE.to_owned()
            }
        );
        assert!(
            serde_json::from_str::<KeySource>("\"nope\"").is_err(),
            "bad strings fail serde"
        );
    }
}
