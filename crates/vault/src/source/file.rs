//! The key file: for servers, where no desktop keychain runs.
//!
//! The file is refused unless only its owner can read it: a master key readable by every local
//! user is not a secret, and failing loudly at start-up is the only moment an operator reliably
//! sees it. The mode is checked on the opened descriptor, not the path, so the file checked is the
//! file read.
//!
//! Every change is written atomically (a temp file created 0600 in the same directory, fsync,
//! rename over the old file, fsync the directory): a crash leaves the old file or the new one,
//! never half a key. Comments and blank lines are kept when the relay edits the file.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::check_not_last;
use crate::error::{Error, Result};
use crate::keytext;
use crate::master::{MasterKey, MasterKeyVersion};

/// Written at the top of a key file the relay creates.
const HEADER: &str = "\
# Ringside master keys: one `ringside-master-key:v{N}:{base64 of 32 bytes}` line per version;
# the highest version is current. Keep this file mode 0600 and back it up apart from the
# database. Written by ringside-relay; read docs/keys.md before editing it by hand.
";

/// A parsed key file: its text and, for each entry, the line it is on.
struct KeyFile {
    text: Zeroizing<String>,
    entries: Vec<(usize, MasterKey)>,
}

impl KeyFile {
    fn versions(&self) -> Vec<MasterKeyVersion> {
        self.entries.iter().map(|(_, k)| k.version()).collect()
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::KeyFileIo {
        path: path.to_owned(),
        source,
    }
}

/// Reads and parses the file; `None` if it does not exist.
fn read(path: &Path) -> Result<Option<KeyFile>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(io_error(path)(std::io::Error::other("not a regular file")));
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_owned(),
            mode: mode & 0o7777,
        });
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    let mut text = Zeroizing::new(String::with_capacity(capacity));
    file.read_to_string(&mut text).map_err(io_error(path))?;

    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let location = || format!("line {} of {}", index + 1, path.display());
        entries.push((index, keytext::parse_entry(line, &location)?));
    }
    let versions: Vec<MasterKeyVersion> = entries.iter().map(|(_, k)| k.version()).collect();
    keytext::check_unique(&versions, &|i| {
        let line = entries.get(i).map_or(0, |(index, _)| index + 1);
        format!("line {line} of {}", path.display())
    })?;
    Ok(Some(KeyFile { text, entries }))
}

pub(super) fn load(path: &Path) -> Result<Vec<MasterKey>> {
    Ok(read(path)?
        .map(|f| f.entries.into_iter().map(|(_, k)| k).collect())
        .unwrap_or_default())
}

pub(super) fn store(path: &Path, key: &MasterKey) -> Result<()> {
    let existing = read(path)?;
    if existing
        .as_ref()
        .is_some_and(|f| f.versions().contains(&key.version()))
    {
        return Err(Error::MasterVersionExists(key.version()));
    }
    let entry = keytext::render_entry(key);
    let old_text = existing.as_ref().map_or(HEADER, |f| f.text.as_str());
    let mut text = Zeroizing::new(String::with_capacity(old_text.len() + entry.len() + 2));
    text.push_str(old_text);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&entry);
    text.push('\n');
    if existing.is_none() {
        create_parent(path)?;
    }
    write_atomic(path, text.as_bytes())
}

pub(super) fn retire(
    path: &Path,
    remove: impl Fn(MasterKeyVersion) -> bool,
) -> Result<Vec<MasterKeyVersion>> {
    match read(path)? {
        Some(file) => remove_versions(path, &file, &remove),
        None => Ok(Vec::new()),
    }
}

pub(super) fn retire_before(
    path: &Path,
    target: MasterKeyVersion,
    keep: impl Fn(MasterKeyVersion) -> bool,
) -> Result<Vec<MasterKeyVersion>> {
    let file = read(path)?.ok_or(Error::UnknownMasterVersion(target))?;
    if !file.versions().contains(&target) {
        return Err(Error::UnknownMasterVersion(target));
    }
    remove_versions(path, &file, &|v| !keep(v))
}

/// Rewrites the file without the entries of the versions `remove` selects.
fn remove_versions(
    path: &Path,
    file: &KeyFile,
    remove: &dyn Fn(MasterKeyVersion) -> bool,
) -> Result<Vec<MasterKeyVersion>> {
    let versions = file.versions();
    let removed: Vec<MasterKeyVersion> = versions.iter().copied().filter(|v| remove(*v)).collect();
    if removed.is_empty() {
        return Ok(removed);
    }
    check_not_last(&versions, remove)?;
    let drop_lines: Vec<usize> = file
        .entries
        .iter()
        .filter(|(_, k)| remove(k.version()))
        .map(|(i, _)| *i)
        .collect();
    let mut text = Zeroizing::new(String::with_capacity(file.text.len()));
    for (index, line) in file.text.lines().enumerate() {
        if !drop_lines.contains(&index) {
            text.push_str(line);
            text.push('\n');
        }
    }
    write_atomic(path, text.as_bytes())?;
    Ok(removed)
}

/// Creates the key file's directory (owner-only) if it does not exist yet.
fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir)),
        _ => Ok(()),
    }
}

/// Replaces `path` with `contents` atomically; the file ends up mode 0600.
fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io_error(path)(std::io::Error::other("the path names no file")))?;
    let suffix: String = ringside_core::random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let temp: PathBuf = dir.join(format!(".{}.{suffix}.tmp", name.to_string_lossy()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        // The umask can only remove bits from 0600; set it exactly anyway.
        file.set_permissions(Permissions::from_mode(0o600))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temp file holds key material and must not be left behind.
        let _ = fs::remove_file(&temp);
        return Err(io_error(path)(e));
    }
    // Make the rename itself durable.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}
