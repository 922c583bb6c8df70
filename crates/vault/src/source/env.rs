//! The environment variable source: for containers, where the orchestrator injects secrets as
//! variables and there is neither a keychain nor a writable, private file.
//!
//! A process cannot change its orchestrator's configuration, so this source is read-only: the
//! relay reads every entry in the variable, and rotation is a short operator procedure (add the
//! new entry next to the old one, restart, `keys rotate`, remove the old entry). Every refusal
//! spells that procedure out.

use std::os::unix::ffi::OsStringExt as _;

use zeroize::{Zeroize as _, Zeroizing};

use crate::error::{Error, Result};
use crate::keytext;
use crate::master::{MasterKey, MasterKeyVersion};

pub(super) fn load(var: &str) -> Result<Vec<MasterKey>> {
    let Some(value) = std::env::var_os(var) else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8(value.into_vec()).map_err(|e| {
        e.into_bytes().zeroize();
        Error::MalformedKey {
            location: format!("${var}"),
            reason: "not valid UTF-8".to_owned(),
        }
    })?;
    parse(&Zeroizing::new(text), var)
}

/// Parses the variable's value: entries separated by any whitespace (spaces or newlines).
pub(super) fn parse(text: &str, var: &str) -> Result<Vec<MasterKey>> {
    let keys = text
        .split_whitespace()
        .enumerate()
        .map(|(i, entry)| keytext::parse_entry(entry, &|| format!("entry {} of ${var}", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let versions: Vec<MasterKeyVersion> = keys.iter().map(MasterKey::version).collect();
    keytext::check_unique(&versions, &|i| format!("entry {} of ${var}", i + 1))?;
    Ok(keys)
}

fn new_entry_example(var: &str, version: MasterKeyVersion) -> String {
    format!(
        "export {var}=\"${var} ringside-master-key:{version}:$(head -c 32 /dev/urandom | base64)\""
    )
}

pub(super) fn missing_hint(var: &str) -> String {
    format!(
        "set ${var} to `ringside-master-key:v1:<base64 of 32 random bytes>`, e.g. \
         `export {var}=\"ringside-master-key:v1:$(head -c 32 /dev/urandom | base64)\"`; if this \
         relay already has data, restore the key it was using instead (a new key cannot open it)"
    )
}

pub(super) fn read_only_store(var: &str, version: MasterKeyVersion) -> Error {
    Error::KeySourceReadOnly {
        origin: format!("env:{var}"),
        hint: format!(
            "the relay cannot add master key {version} to its own environment. To rotate, add the \
             new key next to the existing one(s) where the variable is defined (e.g. `{}`), \
             restart the relay, run `ringside-relay keys rotate`, then remove the old entries \
             and restart again",
            new_entry_example(var, version)
        ),
    }
}

/// Nothing to remove is success (so finishing a rotation is repeatable); anything to remove is
/// an instruction to the operator.
pub(super) fn read_only_retire(
    var: &str,
    remove: impl Fn(MasterKeyVersion) -> bool,
) -> Result<Vec<MasterKeyVersion>> {
    let versions: Vec<MasterKeyVersion> = load(var)?
        .iter()
        .map(MasterKey::version)
        .filter(|v| remove(*v))
        .collect();
    if versions.is_empty() {
        return Ok(versions);
    }
    let list = versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::KeySourceReadOnly {
        origin: format!("env:{var}"),
        hint: format!(
            "the relay cannot edit its own environment: remove the entries for {list} from ${var} \
             where it is defined and restart the relay (nothing is wrapped under them any more \
             once `keys rotate` has re-wrapped the org keys)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_may_be_separated_by_spaces_and_newlines() {
        let a = keytext::render_entry(&MasterKey::generate(MasterKeyVersion(1)));
        let b = keytext::render_entry(&MasterKey::generate(MasterKeyVersion(2)));
        let keys = parse(&format!("  {}\n\t{} \n", *a, *b), "V").unwrap();
        let versions: Vec<_> = keys.iter().map(MasterKey::version).collect();
        assert_eq!(
            versions,
            [MasterKeyVersion(1), MasterKeyVersion(2)],
            "both entries are read"
        );
        assert!(
            parse("", "V").unwrap().is_empty(),
            "an empty variable holds no key"
        );
    }

    #[test]
    fn a_repeated_version_or_a_bad_entry_names_its_position() {
        let a = keytext::render_entry(&MasterKey::generate(MasterKeyVersion(1)));
        let err = parse(&format!("{} {}", *a, *a), "V")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("entry 2 of $V") && err.contains("more than once"),
            "{err}"
        );
        let err = parse(&format!("{} garbage", *a), "V")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("entry 2 of $V"),
            "the bad entry is located: {err}"
        );
        assert!(
            !err.contains("garbage"),
            "the entry text is not echoed: {err}"
        );
    }
}
