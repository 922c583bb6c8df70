//! Key file and environment sources, and master-key rotation, against real files and a real
//! process environment.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use ringside_core::OrgId;
use ringside_vault::{
    Error, KeySource, MasterKeyVersion, MasterKeyring, OrgKeyring, SealContext, rewrap,
};

/// 32 × 'A', so the tests know the key bytes.
const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
/// 32 × 'B'.
const KEY_B: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

fn key_file(dir: &tempfile::TempDir) -> (PathBuf, KeySource) {
    let path = dir.path().join("master.keys");
    let source = KeySource::File { path: path.clone() };
    (path, source)
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).expect("writing the test key file");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("setting its mode");
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o7777
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("listing the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Seals with an org key made under `ring`, so another ring can prove it holds the same keys.
fn seal_sample(ring: &MasterKeyring) -> (ringside_vault::WrappedKey, Vec<u8>) {
    let org = OrgId::random();
    let (keys, wrapped) = OrgKeyring::generate(org, ring).expect("generating an org key");
    let blob = keys
        .seal(&SealContext::new(org, "t", "c", b"r"), b"sample")
        .expect("sealing");
    (wrapped, blob)
}

fn opens(ring: &MasterKeyring, wrapped: &ringside_vault::WrappedKey, blob: &[u8]) -> bool {
    let org = wrapped.org();
    OrgKeyring::unwrap(org, ring, [(wrapped, 0)])
        .and_then(|keys| keys.open(&SealContext::new(org, "t", "c", b"r"), blob))
        .is_ok_and(|plain| plain.as_slice() == b"sample")
}

#[test]
fn a_new_key_file_is_created_0600_and_loads_back_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    let err = source.load().unwrap_err();
    assert!(
        matches!(err, Error::NoMasterKey { .. }),
        "a missing file holds no key: {err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "names the file: {err}"
    );

    let ring = source.load_or_create().unwrap();
    assert_eq!(
        ring.versions(),
        [MasterKeyVersion(1)],
        "version 1 is created"
    );
    assert_eq!(mode(&path), 0o600, "the key file is created owner-only");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# Ringside master keys"),
        "the file explains itself: {text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("ringside-master-key:v1:"))
            .count(),
        1,
        "one key line"
    );

    let (wrapped, blob) = seal_sample(&ring);
    let again = source.load_or_create().unwrap();
    assert_eq!(
        again.versions(),
        [MasterKeyVersion(1)],
        "an existing key is never replaced"
    );
    assert!(
        opens(&again, &wrapped, &blob),
        "the reloaded key is the same key"
    );
    assert_eq!(
        dir_entries(dir.path()),
        ["master.keys"],
        "no temp file is left behind"
    );
}

#[test]
fn a_key_file_in_a_missing_directory_gets_an_owner_only_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("keys").join("master.keys");
    KeySource::File { path: path.clone() }
        .load_or_create()
        .unwrap();
    assert_eq!(
        mode(path.parent().unwrap()) & 0o077,
        0,
        "the created directory is owner-only"
    );
    assert_eq!(mode(&path), 0o600, "the key file is owner-only");
}

#[test]
fn a_key_file_readable_by_group_or_others_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    let text = format!("ringside-master-key:v1:{KEY_A}\n");
    for bad in [0o644, 0o640, 0o604, 0o660, 0o601] {
        write_mode(&path, &text, bad);
        let err = source.load().unwrap_err();
        assert!(
            matches!(err, Error::KeyFilePermissions { mode, .. } if mode == bad),
            "{bad:o}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "the message names the path: {message}"
        );
        assert!(
            message.contains(&format!("{bad:04o}")),
            "the message names the mode: {message}"
        );
        assert!(
            message.contains(&format!("chmod 600 {}", path.display())),
            "and the fix: {message}"
        );
        let err = source
            .store_version(&ringside_vault::MasterKey::generate(MasterKeyVersion(2)))
            .unwrap_err();
        assert!(
            matches!(err, Error::KeyFilePermissions { .. }),
            "nothing is written to it either: {err:?}"
        );
    }
    for good in [0o600, 0o400] {
        write_mode(&path, &text, good);
        assert_eq!(
            source.load().unwrap().versions(),
            [MasterKeyVersion(1)],
            "{good:o} is accepted"
        );
    }
}

#[test]
fn key_file_edits_are_atomic_keep_comments_and_leave_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    write_mode(
        &path,
        &format!("# ops: rotated yearly\n\nringside-master-key:v1:{KEY_A}\n"),
        0o400,
    );
    let ring = source.load().unwrap();
    let (wrapped, blob) = seal_sample(&ring);

    source
        .store_version(&ringside_vault::MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    assert_eq!(mode(&path), 0o600, "the rewritten file is 0600");
    let err = source
        .store_version(&ringside_vault::MasterKey::generate(MasterKeyVersion(2)))
        .unwrap_err();
    assert!(
        matches!(err, Error::MasterVersionExists(MasterKeyVersion(2))),
        "never overwritten: {err:?}"
    );
    let both = source.load().unwrap();
    assert_eq!(
        both.versions(),
        [MasterKeyVersion(1), MasterKeyVersion(2)],
        "both versions are held"
    );
    assert_eq!(
        both.current().version(),
        MasterKeyVersion(2),
        "the highest is current"
    );
    assert!(opens(&both, &wrapped, &blob), "v1 is unchanged");

    source.retire_version(MasterKeyVersion(1)).unwrap();
    source.retire_version(MasterKeyVersion(1)).unwrap(); // repeating a retire is harmless
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# ops: rotated yearly\n"),
        "comments survive edits: {text}"
    );
    assert!(
        !text.contains(KEY_A),
        "the retired key is gone from the file"
    );
    let err = source.retire_version(MasterKeyVersion(2)).unwrap_err();
    assert!(
        matches!(err, Error::LastMasterVersion(MasterKeyVersion(2))),
        "the last key stays: {err:?}"
    );
    assert_eq!(
        dir_entries(dir.path()),
        ["master.keys"],
        "no temp file is left behind"
    );
}

#[test]
fn a_malformed_key_file_names_the_line_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    for (text, expect) in [
        (
            format!("# c\nringside-master-key:v1:{KEY_A}\nringside-master-key:v1:{KEY_B}\n"),
            "line 3",
        ),
        (
            format!(
                "ringside-master-key:v1:{KEY_A}\nringside-master-key:v2:{}\n",
                &KEY_B[..40]
            ),
            "line 2",
        ),
        (
            format!("ringside-master-key:v1:{KEY_A} trailing\n"),
            "line 1",
        ),
        (format!("ringside-master-key:one:{KEY_A}\n"), "line 1"),
        (format!("{KEY_A}\n"), "line 1"),
    ] {
        write_mode(&path, &text, 0o600);
        let err = source.load().unwrap_err();
        assert!(
            matches!(err, Error::MalformedKey { .. }),
            "{text:?}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("{expect} of {}", path.display())),
            "locates it: {message}"
        );
        assert!(
            !message.contains("QUFB") && !message.contains("QkJC"),
            "no key text: {message}"
        );
    }
}

#[test]
fn rotation_rewraps_org_keys_and_retires_the_old_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    let mut ring = source.load_or_create().unwrap();
    let (wrapped, blob) = seal_sample(&ring);

    // 1. a newer version is made durable in the source
    let plan = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (plan.target, plan.created),
        (MasterKeyVersion(2), true),
        "v2 is created"
    );
    assert_eq!(plan.retire, [MasterKeyVersion(1)], "v1 will be retired");
    assert_eq!(
        source.load().unwrap().versions().len(),
        2,
        "v2 is stored before anything else"
    );
    // 2. every wrapped key is re-wrapped (the store does this in one transaction)
    let target = ring.get(plan.target).unwrap();
    let rewrapped = rewrap(&wrapped, &ring, target).unwrap();
    // 3. the old version is retired
    let retired = ring.finish_rotation(&source, &plan).unwrap();
    assert_eq!(retired, [MasterKeyVersion(1)], "v1 is retired");
    assert_eq!(
        ring.versions(),
        [MasterKeyVersion(2)],
        "and dropped from the ring"
    );

    let reloaded = source.load().unwrap();
    assert_eq!(
        reloaded.versions(),
        [MasterKeyVersion(2)],
        "v1 is gone from the source"
    );
    assert!(
        opens(&reloaded, &rewrapped, &blob),
        "data sealed before the rotation still opens"
    );
    assert!(
        !opens(&reloaded, &wrapped, &blob),
        "the old wrapped key is useless now"
    );
    assert_eq!(mode(&path), 0o600, "still owner-only");
    assert_eq!(
        dir_entries(dir.path()),
        ["master.keys"],
        "no temp file is left behind"
    );
}

#[test]
fn an_interrupted_rotation_completes_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_, source) = key_file(&dir);
    let mut ring = source.load_or_create().unwrap();
    let (wrapped, blob) = seal_sample(&ring);
    ring.rotate_target(&source).unwrap();
    drop(ring); // crash after step 1: v2 stored, nothing re-wrapped

    let mut ring = source.load().unwrap();
    let plan = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (plan.target, plan.created),
        (MasterKeyVersion(2), false),
        "the rotation is resumed"
    );
    let rewrapped = rewrap(&wrapped, &ring, ring.current()).unwrap();
    drop(ring); // crash after step 2: re-wrapped, v1 not retired yet

    let mut ring = source.load().unwrap();
    let plan = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (plan.target, plan.created),
        (MasterKeyVersion(2), false),
        "resumed again"
    );
    assert_eq!(
        rewrap(&rewrapped, &ring, ring.current())
            .unwrap()
            .master_version(),
        MasterKeyVersion(2),
        "re-wrapping again is harmless"
    );
    ring.finish_rotation(&source, &plan).unwrap();
    assert_eq!(
        ring.finish_rotation(&source, &plan).unwrap(),
        [],
        "finishing twice is harmless"
    );
    let done = source.load().unwrap();
    assert_eq!(done.versions(), [MasterKeyVersion(2)], "only v2 remains");
    assert!(opens(&done, &rewrapped, &blob), "the data opens");

    let mut ring = done;
    let next = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (next.target, next.created),
        (MasterKeyVersion(3), true),
        "a finished rotation starts a new one"
    );
}

#[test]
fn an_unset_environment_variable_explains_how_to_provide_a_key() {
    let source: KeySource = "env:RINGSIDE_VAULT_TEST_NEVER_SET_4F2A".parse().unwrap();
    assert!(!source.is_writable(), "the environment is read-only");
    for err in [
        source.load().unwrap_err(),
        source.load_or_create().unwrap_err(),
    ] {
        assert!(matches!(err, Error::NoMasterKey { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("head -c 32 /dev/urandom | base64"),
            "says how to make one: {message}"
        );
    }
}

const CHILD_VAR: &str = "RINGSIDE_VAULT_TEST_KEYS";
const CHILD_BAD_VAR: &str = "RINGSIDE_VAULT_TEST_BAD_KEYS";

/// Runs one `#[ignore]`d test of this binary in a child process with `vars` set, because a test
/// cannot set its own environment (`set_var` is unsafe, and this workspace forbids unsafe).
fn run_child(test: &str, vars: &[(&str, &str)]) {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(vars.iter().copied())
        .output()
        .expect("running the child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child {test} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "child {test} must have run exactly one test:\n{stdout}"
    );
}

#[test]
fn the_environment_source_reads_keys_and_refuses_to_write() {
    let keys = format!("ringside-master-key:v1:{KEY_A}\n  ringside-master-key:v2:{KEY_B}");
    let bad = format!("ringside-master-key:v1:{KEY_A} ringside-master-key:v1:{KEY_B}");
    run_child(
        "env_child_reads_and_refuses",
        &[(CHILD_VAR, &keys), (CHILD_BAD_VAR, &bad)],
    );
}

#[test]
#[ignore = "run by the_environment_source_reads_keys_and_refuses_to_write with the variables set"]
fn env_child_reads_and_refuses() {
    let source = KeySource::Env {
        var: CHILD_VAR.to_owned(),
    };
    let mut ring = source.load().unwrap();
    assert_eq!(
        ring.versions(),
        [MasterKeyVersion(1), MasterKeyVersion(2)],
        "both entries are read"
    );

    let err = source
        .store_version(&ringside_vault::MasterKey::generate(MasterKeyVersion(3)))
        .unwrap_err();
    assert!(matches!(err, Error::KeySourceReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(CHILD_VAR) && message.contains("keys rotate"),
        "explains rotation: {message}"
    );
    let err = source.retire_version(MasterKeyVersion(1)).unwrap_err();
    assert!(matches!(err, Error::KeySourceReadOnly { .. }), "{err:?}");
    assert!(
        err.to_string().contains("remove the entries for v1"),
        "explains retiring: {err}"
    );
    source.retire_version(MasterKeyVersion(7)).unwrap(); // nothing to remove: nothing to do

    // Rotation with the environment: the operator added v2, the relay re-wraps, the operator
    // removes v1.
    let plan = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (plan.target, plan.created),
        (MasterKeyVersion(2), false),
        "uses the key the operator added"
    );
    let err = ring.finish_rotation(&source, &plan).unwrap_err();
    assert!(
        matches!(err, Error::KeySourceReadOnly { .. }),
        "asks the operator to remove v1: {err:?}"
    );

    let single = KeySource::Env {
        var: CHILD_VAR.to_owned(),
    };
    let mut only_v2 =
        MasterKeyring::single(ringside_vault::MasterKey::generate(MasterKeyVersion(2)));
    let err = only_v2.rotate_target(&single).unwrap_err();
    assert!(
        matches!(err, Error::KeySourceReadOnly { .. }),
        "cannot create v3 itself: {err:?}"
    );
    assert!(
        err.to_string().contains("ringside-master-key:v3:"),
        "shows the entry to add: {err}"
    );

    let bad = KeySource::Env {
        var: CHILD_BAD_VAR.to_owned(),
    }
    .load()
    .unwrap_err();
    assert!(matches!(bad, Error::MalformedKey { .. }), "{bad:?}");
    let message = bad.to_string();
    assert!(
        message.contains(&format!("entry 2 of ${CHILD_BAD_VAR}")),
        "locates it: {message}"
    );
    assert!(
        !message.contains("QUFB") && !message.contains("QkJC"),
        "no key text: {message}"
    );
}

#[test]
fn debug_of_a_loaded_ring_never_shows_the_key_file_contents() {
    let dir = tempfile::tempdir().unwrap();
    let (path, source) = key_file(&dir);
    write_mode(&path, &format!("ringside-master-key:v1:{KEY_A}\n"), 0o600);
    let ring = source.load().unwrap();
    let printed = format!("{ring:?} {:?} {:#?}", ring.current(), ring);
    for leak in [KEY_A, "65, 65", "414141", "AAAA"] {
        assert!(!printed.contains(leak), "{leak} leaked into {printed}");
    }
}
