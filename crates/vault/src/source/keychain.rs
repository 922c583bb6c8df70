//! The OS keychain source (`keyring` crate): Secret Service on Linux (gnome-keyring, KWallet),
//! Keychain on macOS, Credential Manager on Windows.
//!
//! A keychain cannot list its entries, so besides one entry per version (user
//! `master-key-v{N}`, value the key's base64) we keep an index entry (`master-key-index`, value
//! e.g. `v1 v2`). Writes go key first, index second; retirement goes index first, key second —
//! so an interruption leaves at worst an orphaned entry for a retired key, never an index that
//! names a missing key. `retire_before` also sweeps orphans below the target.

use keyring::Entry;

use super::check_not_last;
use crate::error::{Error, Result};
use crate::keytext;
use crate::master::{MasterKey, MasterKeyVersion};

const INDEX_USER: &str = "master-key-index";

fn keychain_error(service: &str, what: &str) -> impl FnOnce(keyring::Error) -> Error {
    let service = service.to_owned();
    let what = what.to_owned();
    // keyring's errors describe the platform failure, never the stored secret (its `BadEncoding`
    // carries bytes in `Debug`, but only `Display` is used here).
    move |e| Error::Keychain {
        service,
        reason: format!("{what}: {e}{}", no_session_hint()),
    }
}

/// On Linux the keychain is the Secret Service on the D-Bus *session* bus; a service started by
/// systemd or in a container usually has none. Say so, rather than leave a bare D-Bus error.
fn no_session_hint() -> &'static str {
    if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        " (DBUS_SESSION_BUS_ADDRESS is not set: no desktop session, so no Secret Service to \
         reach; on a server use a key file (`file:PATH`) or the environment (`env`), or run \
         inside a session that has a keyring, e.g. `.ci/with-keyring` for the tests)"
    } else {
        ""
    }
}

fn entry(service: &str, user: &str) -> Result<Entry> {
    Entry::new(service, user).map_err(keychain_error(service, "opening an entry"))
}

fn version_user(version: MasterKeyVersion) -> String {
    format!("master-key-{version}")
}

/// The versions the index lists (empty if there is no index yet).
fn read_index(service: &str) -> Result<Vec<MasterKeyVersion>> {
    match entry(service, INDEX_USER)?.get_password() {
        Ok(text) => text
            .split_whitespace()
            .map(|v| {
                keytext::parse_version(v).ok_or_else(|| Error::MalformedKey {
                    location: format!("the keychain index of service `{service}`"),
                    reason: "expected versions like `v1 v2`".to_owned(),
                })
            })
            .collect(),
        Err(keyring::Error::NoEntry) => Ok(Vec::new()),
        Err(e) => Err(keychain_error(service, "reading the index")(e)),
    }
}

fn write_index(service: &str, versions: &[MasterKeyVersion]) -> Result<()> {
    let text: Vec<String> = versions.iter().map(ToString::to_string).collect();
    entry(service, INDEX_USER)?
        .set_password(&text.join(" "))
        .map_err(keychain_error(service, "writing the index"))
}

pub(super) fn load(service: &str) -> Result<Vec<MasterKey>> {
    read_index(service)?
        .into_iter()
        .map(|version| {
            let text = zeroize::Zeroizing::new(
                entry(service, &version_user(version))?
                    .get_password()
                    .map_err(keychain_error(
                        service,
                        &format!("reading master key {version}"),
                    ))?,
            );
            let key = keytext::decode_key(text.trim()).ok_or_else(|| Error::MalformedKey {
                location: format!(
                    "keychain entry `{}` of service `{service}`",
                    version_user(version)
                ),
                reason: "expected standard base64 of exactly 32 bytes".to_owned(),
            })?;
            Ok(MasterKey::from_bytes(version, key))
        })
        .collect()
}

pub(super) fn store(service: &str, key: &MasterKey) -> Result<()> {
    let mut versions = read_index(service)?;
    if versions.contains(&key.version()) {
        return Err(Error::MasterVersionExists(key.version()));
    }
    entry(service, &version_user(key.version()))?
        .set_password(&keytext::encode_key(key))
        .map_err(keychain_error(
            service,
            &format!("storing master key {}", key.version()),
        ))?;
    versions.push(key.version());
    versions.sort();
    write_index(service, &versions)
}

pub(super) fn retire(
    service: &str,
    remove: impl Fn(MasterKeyVersion) -> bool,
) -> Result<Vec<MasterKeyVersion>> {
    let versions = read_index(service)?;
    let removed: Vec<MasterKeyVersion> = versions.iter().copied().filter(|v| remove(*v)).collect();
    if removed.is_empty() {
        return Ok(removed);
    }
    check_not_last(&versions, &remove)?;
    let kept: Vec<MasterKeyVersion> = versions.into_iter().filter(|v| !remove(*v)).collect();
    write_index(service, &kept)?;
    for version in &removed {
        delete_entry(service, *version)?;
    }
    Ok(removed)
}

pub(super) fn retire_before(
    service: &str,
    target: MasterKeyVersion,
) -> Result<Vec<MasterKeyVersion>> {
    if !read_index(service)?.contains(&target) {
        return Err(Error::UnknownMasterVersion(target));
    }
    let removed = retire(service, |v| v < target)?;
    // Sweep entries an interrupted earlier retire left behind (index updated, entry not deleted).
    for version in (1..target.get()).map(MasterKeyVersion) {
        if !removed.contains(&version) {
            delete_entry(service, version)?;
        }
    }
    Ok(removed)
}

fn delete_entry(service: &str, version: MasterKeyVersion) -> Result<()> {
    match entry(service, &version_user(version))?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keychain_error(
            service,
            &format!("deleting master key {version}"),
        )(e)),
    }
}
