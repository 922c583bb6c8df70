//! Installation secrets through the public API: wrap, unwrap, re-wrap on rotation, and every way
//! a wrapped secret is refused.

use ringside_core::OrgId;
use ringside_vault::{
    Error, MasterKey, MasterKeyVersion, MasterKeyring, OrgKeyring, WrappedSecret, rewrap_secret,
};

const PURPOSE: &str = "audit-checkpoint-ed25519";

fn masters(version: u32) -> MasterKeyring {
    MasterKeyring::single(MasterKey::generate(MasterKeyVersion(version)))
}

fn secret() -> [u8; 32] {
    ringside_core::random_bytes()
}

#[test]
fn a_wrapped_secret_unwraps_to_the_same_bytes_and_does_not_contain_them() {
    let ring = masters(1);
    let secret = secret();
    let wrapped = ring.current().wrap_secret(PURPOSE, &secret).unwrap();
    assert_eq!(wrapped.purpose(), PURPOSE, "the purpose is kept");
    assert_eq!(
        wrapped.master_version(),
        MasterKeyVersion(1),
        "wrapped under the current version"
    );
    assert_eq!(
        wrapped.bytes().len(),
        61,
        "format + nonce + secret + tag, like a wrapped org key"
    );
    assert!(
        !wrapped.bytes().windows(32).any(|w| w == secret),
        "the wrapped bytes must not contain the secret"
    );
    assert_eq!(
        *ring.unwrap_secret(&wrapped).unwrap(),
        secret,
        "round trip gives the secret back"
    );
    let again = ring.current().wrap_secret(PURPOSE, &secret).unwrap();
    assert_ne!(
        again.bytes(),
        wrapped.bytes(),
        "a fresh nonce per wrap: the same secret never wraps to the same bytes"
    );
}

#[test]
fn a_wrapped_secret_is_bound_to_its_purpose_its_version_and_its_bytes() {
    let ring = masters(1);
    let wrapped = ring.current().wrap_secret(PURPOSE, &secret()).unwrap();
    let (purpose, version, bytes) = wrapped.clone().into_parts();

    let moved = WrappedSecret::from_parts("other-purpose".to_owned(), version, bytes.clone());
    assert!(
        matches!(
            ring.unwrap_secret(&moved),
            Err(Error::SecretUnwrapFailed { .. })
        ),
        "a secret stored under another purpose must not unwrap"
    );

    for index in [0, 1, 20, bytes.len() - 1] {
        let mut altered = bytes.clone();
        altered[index] ^= 1;
        let altered = WrappedSecret::from_parts(purpose.clone(), version, altered);
        assert!(
            ring.unwrap_secret(&altered).is_err(),
            "flipping byte {index} must make the secret fail to unwrap"
        );
    }
    let truncated = WrappedSecret::from_parts(purpose.clone(), version, bytes[..10].to_vec());
    assert!(
        ring.unwrap_secret(&truncated).is_err(),
        "a truncated secret is refused"
    );
    let empty = WrappedSecret::from_parts(purpose.clone(), version, Vec::new());
    assert!(
        ring.unwrap_secret(&empty).is_err(),
        "an empty secret is refused"
    );

    let other_version = WrappedSecret::from_parts(purpose, MasterKeyVersion(2), bytes);
    assert!(
        matches!(
            ring.unwrap_secret(&other_version),
            Err(Error::UnknownMasterVersion(MasterKeyVersion(2)))
        ),
        "a version the ring does not hold is named"
    );
    assert!(
        masters(1).unwrap_secret(&wrapped).is_err(),
        "another master key of the same version must not unwrap"
    );
}

#[test]
fn a_wrapped_org_key_is_not_accepted_as_a_secret() {
    let ring = masters(1);
    let (_, wrapped_key) = OrgKeyring::generate(OrgId::random(), &ring).unwrap();
    let as_secret = WrappedSecret::from_parts(
        PURPOSE.to_owned(),
        wrapped_key.master_version(),
        wrapped_key.bytes().to_vec(),
    );
    assert!(
        ring.unwrap_secret(&as_secret).is_err(),
        "the AAD of an org key and of a secret differ, so one never opens as the other"
    );
}

#[test]
fn a_rotation_rewraps_the_secret_under_the_new_version_unchanged() {
    let mut ring = masters(1);
    let secret = secret();
    let wrapped = ring.current().wrap_secret(PURPOSE, &secret).unwrap();
    ring.insert(MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    let rewrapped = rewrap_secret(&wrapped, &ring, ring.current()).unwrap();
    assert_eq!(rewrapped.master_version(), MasterKeyVersion(2));
    assert_eq!(rewrapped.purpose(), PURPOSE);
    assert_eq!(
        *ring.unwrap_secret(&rewrapped).unwrap(),
        secret,
        "the secret survives the rotation"
    );
}

#[test]
fn bad_purposes_are_refused_without_echoing_them() {
    let ring = masters(1);
    for bad in ["", "Has Upper", "someone@example.com", &"x".repeat(65)] {
        let err = ring.current().wrap_secret(bad, &secret()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidSecretPurpose { .. }),
            "{bad:?} is refused: {err}"
        );
        if !bad.is_empty() {
            assert!(
                !err.to_string().contains(bad),
                "the message does not repeat the purpose: {err}"
            );
        }
    }
}

#[test]
fn debug_shows_purpose_and_version_only() {
    let ring = masters(3);
    let wrapped = ring.current().wrap_secret(PURPOSE, &secret()).unwrap();
    assert_eq!(
        format!("{wrapped:?}"),
        format!("WrappedSecret {{ purpose: \"{PURPOSE}\", master_version: v3, len: 61 }}"),
        "no bytes in Debug"
    );
}
