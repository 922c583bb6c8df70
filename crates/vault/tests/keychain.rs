//! The keychain source against the real OS keychain backend — on Linux the Secret Service of a
//! gnome-keyring in a private D-Bus session. Run with:
//!
//! ```text
//! .ci/with-keyring cargo test -p ringside-vault
//! ```
//!
//! Without a D-Bus session these tests fail (they never pass silently): a keychain test that
//! skips itself would hide that the backend was never exercised.

use keyring::Entry;
use ringside_core::OrgId;
use ringside_vault::{
    Error, KeySource, MasterKey, MasterKeyVersion, MasterKeyring, OrgKeyring, SealContext, rewrap,
};

const HOW_TO_RUN: &str = "the keychain tests need a D-Bus session with a Secret Service \
    (DBUS_SESSION_BUS_ADDRESS is unset): run them as `.ci/with-keyring cargo test -p ringside-vault` \
    from the workspace root";

/// A keychain service of its own for each test, removed again when the test ends.
struct TestService(String);

impl TestService {
    fn new() -> Self {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "{HOW_TO_RUN}"
        );
        let suffix: String = ringside_core::random_bytes::<6>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self(format!("ringside-vault-test-{suffix}"))
    }

    fn source(&self) -> KeySource {
        format!("keychain:{}", self.0)
            .parse()
            .expect("a valid keychain source")
    }

    fn entry(&self, user: &str) -> Entry {
        Entry::new(&self.0, user).expect("a keychain entry")
    }

    fn holds(&self, user: &str) -> bool {
        match self.entry(user).get_password() {
            Ok(_) => true,
            Err(keyring::Error::NoEntry) => false,
            Err(e) => panic!("reading {user}: {e}"),
        }
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        for v in 1..=5 {
            let _ = self.entry(&format!("master-key-v{v}")).delete_credential();
        }
        let _ = self.entry("master-key-index").delete_credential();
    }
}

fn seal_sample(ring: &MasterKeyring) -> (ringside_vault::WrappedKey, Vec<u8>) {
    let org = OrgId::random();
    let (keys, wrapped) = OrgKeyring::generate(org, ring).expect("generating an org key");
    (
        wrapped,
        keys.seal(&SealContext::new(org, "t", "c", b"r"), b"sample")
            .expect("sealing"),
    )
}

fn opens(ring: &MasterKeyring, wrapped: &ringside_vault::WrappedKey, blob: &[u8]) -> bool {
    let org = wrapped.org();
    OrgKeyring::unwrap(org, ring, [(wrapped, 0)])
        .and_then(|keys| keys.open(&SealContext::new(org, "t", "c", b"r"), blob))
        .is_ok_and(|plain| plain.as_slice() == b"sample")
}

#[test]
fn master_keys_are_stored_loaded_and_retired_in_the_os_keychain() {
    let service = TestService::new();
    let source = service.source();
    let err = source.load().unwrap_err();
    assert!(
        matches!(err, Error::NoMasterKey { .. }),
        "an empty keychain holds no key: {err:?}"
    );

    let ring = source.load_or_create().unwrap();
    assert_eq!(ring.versions(), [MasterKeyVersion(1)], "v1 is created");
    assert!(
        service.holds("master-key-v1") && service.holds("master-key-index"),
        "entry and index exist"
    );
    let stored = service.entry("master-key-v1").get_password().unwrap();
    assert_eq!(stored.len(), 44, "the value is the base64 of 32 bytes");
    assert_eq!(
        service.entry("master-key-index").get_password().unwrap(),
        "v1",
        "the index lists v1"
    );
    let (wrapped, blob) = seal_sample(&ring);
    assert!(
        opens(&source.load().unwrap(), &wrapped, &blob),
        "the key loads back unchanged"
    );

    source
        .store_version(&MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    let err = source
        .store_version(&MasterKey::generate(MasterKeyVersion(2)))
        .unwrap_err();
    assert!(
        matches!(err, Error::MasterVersionExists(_)),
        "never overwritten: {err:?}"
    );
    assert_eq!(
        source.load().unwrap().versions(),
        [MasterKeyVersion(1), MasterKeyVersion(2)],
        "both load"
    );

    source.retire_version(MasterKeyVersion(1)).unwrap();
    assert!(
        !service.holds("master-key-v1"),
        "the retired entry is deleted"
    );
    assert_eq!(
        source.load().unwrap().versions(),
        [MasterKeyVersion(2)],
        "only v2 loads"
    );
    let err = source.retire_version(MasterKeyVersion(2)).unwrap_err();
    assert!(
        matches!(err, Error::LastMasterVersion(_)),
        "the last key stays: {err:?}"
    );
}

#[test]
fn a_rotation_through_the_keychain_keeps_data_readable_and_removes_the_old_key() {
    let service = TestService::new();
    let source = service.source();
    let mut ring = source.load_or_create().unwrap();
    let (wrapped, blob) = seal_sample(&ring);

    let plan = ring.rotate_target(&source).unwrap();
    assert_eq!(
        (plan.target, plan.created),
        (MasterKeyVersion(2), true),
        "v2 is created"
    );
    let rewrapped = rewrap(&wrapped, &ring, ring.current()).unwrap();
    assert_eq!(
        ring.finish_rotation(&source, &plan).unwrap(),
        [MasterKeyVersion(1)],
        "v1 retired"
    );

    let reloaded = source.load().unwrap();
    assert_eq!(
        reloaded.versions(),
        [MasterKeyVersion(2)],
        "only v2 remains"
    );
    assert!(
        !service.holds("master-key-v1"),
        "v1 is gone from the keychain"
    );
    assert!(
        opens(&reloaded, &rewrapped, &blob),
        "data sealed before the rotation still opens"
    );
}

#[test]
fn finishing_a_rotation_also_removes_keys_an_interrupted_retire_left_behind() {
    let service = TestService::new();
    let source = service.source();
    source.load_or_create().unwrap();
    source
        .store_version(&MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    source
        .store_version(&MasterKey::generate(MasterKeyVersion(3)))
        .unwrap();
    // An earlier retire of v1 updated the index and then stopped before deleting the entry.
    service
        .entry("master-key-index")
        .set_password("v2 v3")
        .unwrap();
    assert!(
        service.holds("master-key-v1"),
        "the orphaned v1 entry is still there"
    );

    let retired = source.retire_versions_before(MasterKeyVersion(3)).unwrap();
    assert_eq!(retired, [MasterKeyVersion(2)], "v2 was in the index");
    assert!(
        !service.holds("master-key-v1") && !service.holds("master-key-v2"),
        "both entries are gone"
    );
    assert_eq!(
        source.load().unwrap().versions(),
        [MasterKeyVersion(3)],
        "v3 remains"
    );
    let err = source
        .retire_versions_before(MasterKeyVersion(4))
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownMasterVersion(MasterKeyVersion(4))),
        "the target must exist: {err:?}"
    );
}

#[test]
fn a_malformed_keychain_value_names_the_entry_and_never_the_value() {
    let service = TestService::new();
    service
        .entry("master-key-v1")
        .set_password("c2hvcnQ=")
        .unwrap();
    service
        .entry("master-key-index")
        .set_password("v1")
        .unwrap();
    let err = service.source().load().unwrap_err();
    assert!(matches!(err, Error::MalformedKey { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("master-key-v1") && message.contains(&service.0),
        "names the entry: {message}"
    );
    assert!(!message.contains("c2hvcnQ"), "never the value: {message}");

    service
        .entry("master-key-index")
        .set_password("v1 x")
        .unwrap();
    let err = service.source().load().unwrap_err();
    assert!(
        err.to_string().contains("keychain index"),
        "a bad index is named: {err}"
    );
}
