//! Sealing and the key hierarchy through the public API only: what the store codes against.

use proptest::prelude::*;
use ringside_core::OrgId;
use ringside_vault::{
    DataKeyGeneration, Error, MAX_SEALS_PER_KEY, MasterKey, MasterKeyVersion, MasterKeyring,
    OrgKeyring, ROTATE_AFTER_SEALS, SEAL_OVERHEAD, SealContext, WrappedKey, rewrap,
    sealed_generation,
};

const SECRET: &[u8] = b"Zebulon Quartermaine +14155550123";

fn masters() -> MasterKeyring {
    MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST))
}

fn org_keys() -> (OrgKeyring, WrappedKey, MasterKeyring) {
    let masters = masters();
    let (keys, wrapped) = OrgKeyring::generate(OrgId::random(), &masters).expect("an org key");
    (keys, wrapped, masters)
}

fn flipped(blob: &[u8], index: usize) -> Vec<u8> {
    let mut copy = blob.to_vec();
    copy[index] ^= 0x01;
    copy
}

#[test]
fn a_sealed_value_opens_in_its_own_place() {
    let (keys, _, _) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "from_number", b"row-1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    assert_eq!(
        blob.len(),
        SECRET.len() + SEAL_OVERHEAD,
        "33 bytes of overhead"
    );
    assert!(
        !blob.windows(7).any(|w| w == b"Zebulon"),
        "the blob must not contain the plaintext"
    );
    assert_eq!(
        keys.open(&ctx, &blob).unwrap().as_slice(),
        SECRET,
        "round trip"
    );
    let empty = keys.seal(&ctx, b"").unwrap();
    assert!(
        keys.open(&ctx, &empty).unwrap().is_empty(),
        "an empty value round-trips too"
    );
}

#[test]
fn sealing_the_same_value_twice_gives_different_blobs() {
    let (keys, _, _) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let (a, b) = (
        keys.seal(&ctx, SECRET).unwrap(),
        keys.seal(&ctx, SECRET).unwrap(),
    );
    assert_ne!(a[5..17], b[5..17], "each seal must draw a fresh nonce");
    assert_ne!(a, b, "so the blobs differ");
}

#[test]
fn tampering_with_ciphertext_tag_or_nonce_fails_with_one_error() {
    let (keys, _, _) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    let last = blob.len() - 1;
    for (part, index) in [
        ("nonce", 5),
        ("nonce end", 16),
        ("ciphertext", 17),
        ("ciphertext end", last - 16),
        ("tag", last - 15),
        ("tag end", last),
    ] {
        let err = keys.open(&ctx, &flipped(&blob, index)).unwrap_err();
        assert!(
            matches!(err, Error::OpenFailed),
            "flipping the {part} must be OpenFailed: {err:?}"
        );
        assert!(
            !err.to_string().contains(part),
            "the error must not say which part failed"
        );
    }
    for len in [0, 1, 5, 17, SEAL_OVERHEAD - 1, blob.len() - 1] {
        let err = keys.open(&ctx, &blob[..len]).unwrap_err();
        assert!(
            matches!(err, Error::OpenFailed | Error::UnsupportedFormat { .. }),
            "truncated to {len}: {err:?}"
        );
    }
}

#[test]
fn tampering_with_the_header_fails() {
    let (mut keys, _, masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let g1_blob = keys.seal(&ctx, SECRET).unwrap();
    let err = keys.open(&ctx, &flipped(&g1_blob, 0)).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedFormat { format: 0, .. }),
        "format byte: {err:?}"
    );
    let err = keys.open(&ctx, &flipped(&g1_blob, 1)).unwrap_err();
    assert!(
        matches!(err, Error::UnknownKeyGeneration(_)),
        "generation not held: {err:?}"
    );

    keys.add_generation(&masters).unwrap();
    let g2_blob = keys.seal(&ctx, SECRET).unwrap();
    let mut relabelled = g2_blob.clone();
    relabelled[4] = 1; // claims generation 1, which the org does hold
    let err = keys.open(&ctx, &relabelled).unwrap_err();
    assert!(
        matches!(err, Error::OpenFailed),
        "a relabelled generation must not open: {err:?}"
    );
}

#[test]
fn a_value_moved_to_another_table_column_row_or_org_does_not_open() {
    let (keys, _, _) = org_keys();
    let org = keys.org();
    let ctx = SealContext::new(org, "calls", "from_number", b"row-1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    for (what, other) in [
        (
            "table",
            SealContext::new(org, "sms", "from_number", b"row-1"),
        ),
        (
            "column",
            SealContext::new(org, "calls", "to_number", b"row-1"),
        ),
        (
            "row",
            SealContext::new(org, "calls", "from_number", b"row-2"),
        ),
        (
            "field boundary",
            SealContext::new(org, "callsf", "rom_number", b"row-1"),
        ),
    ] {
        let err = keys.open(&other, &blob).unwrap_err();
        assert!(
            matches!(err, Error::OpenFailed),
            "moved to another {what} must not open: {err:?}"
        );
    }

    let err = keys
        .open(
            &SealContext::new(OrgId::random(), "calls", "from_number", b"row-1"),
            &blob,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::OrgMismatch { .. }),
        "another org's context is refused: {err:?}"
    );
    let (other_org, _, _) = org_keys();
    let moved = SealContext::new(other_org.org(), "calls", "from_number", b"row-1");
    let err = other_org.open(&moved, &blob).unwrap_err();
    assert!(
        matches!(err, Error::OpenFailed),
        "another org's key must not open it: {err:?}"
    );
    let err = other_org.seal(&ctx, SECRET).unwrap_err();
    assert!(
        matches!(err, Error::OrgMismatch { .. }),
        "sealing with another org's keyring is refused"
    );
}

#[test]
fn a_different_data_key_does_not_open_a_value() {
    let (keys, _, masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    // Same org, same generation number, different key: e.g. an org key regenerated by mistake.
    let (again, _) = OrgKeyring::generate(keys.org(), &masters).unwrap();
    let err = again.open(&ctx, &blob).unwrap_err();
    assert!(
        matches!(err, Error::OpenFailed),
        "another data key must not open it: {err:?}"
    );
}

#[test]
fn a_wrapped_key_unwraps_only_with_its_master_key_and_org() {
    let (keys, wrapped, masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    assert_eq!(wrapped.bytes().len(), 61, "format + nonce + key + tag");
    assert_eq!(
        (wrapped.master_version(), wrapped.generation()),
        (MasterKeyVersion(1), DataKeyGeneration(1))
    );

    let reloaded = OrgKeyring::unwrap(keys.org(), &masters, [(&wrapped, 0)]).unwrap();
    assert_eq!(
        reloaded.open(&ctx, &blob).unwrap().as_slice(),
        SECRET,
        "the unwrapped key opens"
    );

    let err = OrgKeyring::unwrap(keys.org(), &self::masters(), [(&wrapped, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::UnwrapFailed { .. }),
        "another master key must fail: {err:?}"
    );

    let (org, version, generation, bytes) = wrapped.clone().into_parts();
    let other = OrgId::random();
    let moved = WrappedKey::from_parts(other, version, generation, bytes.clone());
    let err = OrgKeyring::unwrap(other, &masters, [(&moved, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::UnwrapFailed { .. }),
        "a key copied to another org fails: {err:?}"
    );
    let err = OrgKeyring::unwrap(org, &masters, [(&moved, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::OrgMismatch { .. }),
        "rows of another org are refused: {err:?}"
    );

    let relabelled = WrappedKey::from_parts(org, version, DataKeyGeneration(2), bytes.clone());
    let err = OrgKeyring::unwrap(org, &masters, [(&relabelled, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::UnwrapFailed { .. }),
        "a relabelled generation fails: {err:?}"
    );
    let unknown = WrappedKey::from_parts(org, MasterKeyVersion(9), generation, bytes.clone());
    let err = OrgKeyring::unwrap(org, &masters, [(&unknown, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::UnknownMasterVersion(MasterKeyVersion(9))),
        "{err:?}"
    );
    for index in [0, 1, 20, 60] {
        let tampered = WrappedKey::from_parts(org, version, generation, flipped(&bytes, index));
        let err = OrgKeyring::unwrap(org, &masters, [(&tampered, 0)]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnwrapFailed { .. } | Error::UnsupportedFormat { .. }
            ),
            "byte {index}: {err:?}"
        );
    }
    let err = OrgKeyring::unwrap(org, &masters, [(&wrapped, 0), (&wrapped, 0)]).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateKeyGeneration(_)),
        "a generation given twice: {err:?}"
    );
}

#[test]
fn rewrapping_under_a_new_master_key_keeps_sealed_data_readable() {
    let (keys, wrapped, mut masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    masters
        .insert(MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    let rewrapped = rewrap(&wrapped, &masters, masters.current()).unwrap();
    assert_eq!(
        rewrapped.master_version(),
        MasterKeyVersion(2),
        "wrapped under the new version"
    );
    assert_ne!(
        rewrapped.bytes(),
        wrapped.bytes(),
        "the wrapped bytes change"
    );

    let only_v2 = MasterKeyring::single(MasterKey::generate(MasterKeyVersion(2)));
    let err = rewrap(&wrapped, &only_v2, only_v2.current()).unwrap_err();
    assert!(
        matches!(err, Error::UnknownMasterVersion(MasterKeyVersion(1))),
        "v1 needed: {err:?}"
    );

    let reloaded = OrgKeyring::unwrap(keys.org(), &masters, [(&rewrapped, 0)]).unwrap();
    assert_eq!(
        reloaded.open(&ctx, &blob).unwrap().as_slice(),
        SECRET,
        "old data still opens"
    );
    let err = masters
        .insert(MasterKey::generate(MasterKeyVersion(2)))
        .unwrap_err();
    assert!(
        matches!(err, Error::MasterVersionExists(_)),
        "a version is never replaced: {err:?}"
    );
}

#[test]
fn a_new_data_key_generation_seals_while_old_ones_still_open() {
    let (mut keys, g1, masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "calls", "note", b"1");
    let old = keys.seal(&ctx, b"old").unwrap();
    let g2 = keys.add_generation(&masters).unwrap();
    assert_eq!(g2.generation(), DataKeyGeneration(2), "the next generation");
    let new = keys.seal(&ctx, b"new").unwrap();
    assert_eq!(
        sealed_generation(&old),
        Some(DataKeyGeneration(1)),
        "old blob names g1"
    );
    assert_eq!(
        sealed_generation(&new),
        Some(DataKeyGeneration(2)),
        "new seals use g2"
    );
    assert_eq!(
        keys.open(&ctx, &old).unwrap().as_slice(),
        b"old",
        "g1 data still opens"
    );

    let reloaded = OrgKeyring::unwrap(keys.org(), &masters, [(&g2, 1), (&g1, 1)]).unwrap();
    assert_eq!(
        reloaded.newest().generation(),
        DataKeyGeneration(2),
        "newest is g2 whatever the order"
    );
    assert_eq!(
        reloaded.open(&ctx, &old).unwrap().as_slice(),
        b"old",
        "g1 opens after reload"
    );
    assert_eq!(
        reloaded.open(&ctx, &new).unwrap().as_slice(),
        b"new",
        "g2 opens after reload"
    );
    let only_g2 = OrgKeyring::unwrap(keys.org(), &masters, [(&g2, 1)]).unwrap();
    let err = only_g2.open(&ctx, &old).unwrap_err();
    assert!(
        matches!(err, Error::UnknownKeyGeneration(DataKeyGeneration(1))),
        "g1 deleted: {err:?}"
    );
}

#[test]
fn seals_are_counted_from_the_persisted_count() {
    let (keys, wrapped, masters) = org_keys();
    let ctx = SealContext::new(keys.org(), "t", "c", b"r");
    for _ in 0..3 {
        keys.seal(&ctx, b"x").unwrap();
    }
    keys.open(&ctx, &keys.seal(&ctx, b"x").unwrap()).unwrap();
    assert_eq!(keys.newest().seal_count(), 4, "seals count, opens do not");
    assert_eq!(
        keys.seal_counts(),
        vec![(DataKeyGeneration(1), 4)],
        "counts for the store"
    );
    let reloaded = OrgKeyring::unwrap(keys.org(), &masters, [(&wrapped, 1000)]).unwrap();
    reloaded.seal(&ctx, b"x").unwrap();
    assert_eq!(
        reloaded.newest().seal_count(),
        1001,
        "counting continues from the stored count"
    );
}

#[test]
fn a_key_asks_for_rotation_and_then_refuses_to_seal_past_its_limit() {
    const {
        assert!(
            ROTATE_AFTER_SEALS < MAX_SEALS_PER_KEY,
            "rotation is asked for before the hard limit"
        );
        assert!(
            MAX_SEALS_PER_KEY <= ringside_vault::NIST_RANDOM_NONCE_LIMIT / 4,
            "far below NIST's 2^32"
        );
    }
    let (keys, wrapped, masters) = org_keys();
    let org = keys.org();
    let ctx = SealContext::new(org, "t", "c", b"r");

    let young = OrgKeyring::unwrap(org, &masters, [(&wrapped, ROTATE_AFTER_SEALS - 1)]).unwrap();
    assert!(
        !young.needs_rotation(),
        "below the threshold no rotation is asked for"
    );
    young.seal(&ctx, b"x").unwrap();
    assert!(
        young.needs_rotation(),
        "at the threshold a new generation is asked for"
    );

    let mut old = OrgKeyring::unwrap(org, &masters, [(&wrapped, MAX_SEALS_PER_KEY - 1)]).unwrap();
    let last = old.seal(&ctx, b"last").unwrap();
    assert!(
        old.newest().is_exhausted(),
        "the last allowed seal exhausts the key"
    );
    let err = old.seal(&ctx, b"one too many").unwrap_err();
    assert!(
        matches!(err, Error::DataKeyExhausted { seals, .. } if seals == MAX_SEALS_PER_KEY),
        "{err:?}"
    );
    assert_eq!(
        old.newest().seal_count(),
        MAX_SEALS_PER_KEY,
        "a refused seal is not counted"
    );
    assert_eq!(
        old.open(&ctx, &last).unwrap().as_slice(),
        b"last",
        "an exhausted key still opens"
    );

    old.add_generation(&masters).unwrap();
    let fresh = old.seal(&ctx, b"fresh").unwrap();
    assert_eq!(
        sealed_generation(&fresh),
        Some(DataKeyGeneration(2)),
        "sealing resumes on g2"
    );
    assert!(!old.needs_rotation(), "the new generation starts at zero");
}

#[test]
fn without_the_org_key_nothing_it_sealed_can_be_opened() {
    let (keys, _wrapped, masters) = org_keys();
    let org = keys.org();
    let ctx = SealContext::new(org, "calls", "note", b"1");
    let blob = keys.seal(&ctx, SECRET).unwrap();
    drop(keys); // the store deleted the org's wrapped keys: only the blob remains

    let err = OrgKeyring::unwrap(org, &masters, []).unwrap_err();
    assert!(
        matches!(err, Error::NoDataKey(o) if o == org),
        "no key rows: {err:?}"
    );
    assert!(
        err.to_string().contains("unrecoverable"),
        "the message says what it means: {err}"
    );
    let (new_key, _) = OrgKeyring::generate(org, &masters).unwrap();
    let err = new_key.open(&ctx, &blob).unwrap_err();
    assert!(
        matches!(err, Error::OpenFailed),
        "a new key for the same org cannot open it: {err:?}"
    );
}

#[test]
fn debug_output_shows_versions_and_counts_but_never_key_bytes() {
    let (keys, wrapped, masters) = org_keys();
    let printed = [
        format!("{masters:?}"),
        format!("{:?}", masters.current()),
        format!("{keys:#?}"),
        format!("{:?}", keys.newest()),
        format!("{wrapped:?}"),
    ];
    assert_eq!(
        printed[1], "MasterKey { version: v1, .. }",
        "a master key prints its version"
    );
    assert_eq!(
        printed[3], "DataKey { generation: g1, seals: 0, .. }",
        "a data key prints its generation"
    );
    assert!(
        printed[0].contains("current: v1"),
        "the ring prints its versions: {}",
        printed[0]
    );
    assert!(
        printed[4].contains("len: 61"),
        "a wrapped key prints its length: {}",
        printed[4]
    );
    for text in &printed {
        assert!(
            !text.contains("key:") && !text.contains("bytes"),
            "no key field in {text}"
        );
    }
}

proptest! {
    #[test]
    fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (keys, _, _) = org_keys();
        let ctx = SealContext::new(keys.org(), "t", "c", b"r");
        prop_assert!(keys.open(&ctx, &bytes).is_err(), "random bytes must not open");
        let mut with_header = vec![1, 0, 0, 0, 1];
        with_header.extend_from_slice(&bytes);
        prop_assert!(keys.open(&ctx, &with_header).is_err(), "a valid header alone must not open");
        let _ = sealed_generation(&bytes);
    }

    #[test]
    fn flipping_any_bit_of_a_sealed_value_makes_it_fail(value in proptest::collection::vec(any::<u8>(), 0..64), bit in any::<usize>()) {
        let (keys, _, _) = org_keys();
        let ctx = SealContext::new(keys.org(), "t", "c", b"r");
        let mut blob = keys.seal(&ctx, &value).unwrap();
        let bit = bit % (blob.len() * 8);
        blob[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(keys.open(&ctx, &blob).is_err(), "bit {} flipped must not open", bit);
    }

    #[test]
    fn key_source_parsing_never_panics(text in ".{0,80}") {
        let _ = text.parse::<ringside_vault::KeySource>();
    }
}
