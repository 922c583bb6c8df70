//! Signed checkpoints and the signing key behind them (a system secret wrapped by the master key).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::*;
use crate::audit::checkpoint::checkpoint_message;

#[test]
fn a_forged_or_altered_checkpoint_is_caught() {
    let f = fixture();
    fill(&f, 3);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    fill(&f, 2);
    let conn = attacker(&f.store);

    // Re-point the checkpoint at another entry.
    conn.execute(
        "UPDATE audit_checkpoints SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)",
        [],
    )
    .unwrap();
    assert_eq!(violation(&f), at(4, ViolationKind::CheckpointForged));

    // Relabel a head checkpoint as a pruning one (which would excuse every entry before it).
    conn.execute(
        "UPDATE audit_checkpoints SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3), \
         kind = 'prune'",
        [],
    )
    .unwrap();
    assert_eq!(violation(&f), at(3, ViolationKind::CheckpointForged));

    // Sign a checkpoint with a key of the attacker's own.
    let theirs = SigningKey::from_bytes(&ringside_core::random_bytes());
    let hash = row(&conn, 5).hash;
    let signature = theirs
        .sign(&checkpoint_message("head", 5, &hash, 0))
        .to_bytes();
    conn.execute("DELETE FROM audit_checkpoints", []).unwrap();
    conn.execute(
        "INSERT INTO audit_checkpoints (kind, seq, hash, time_ms, signature) VALUES ('head', 5, ?1, 0, ?2)",
        params![hash, &signature[..]],
    )
    .unwrap();
    assert_violation(&f, at(5, ViolationKind::CheckpointForged), "forged");
}

#[test]
fn removing_the_signing_key_is_reported() {
    let f = fixture();
    fill(&f, 2);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    tamper(&f, "DELETE FROM system_secrets");
    assert_eq!(violation(&f), at(2, ViolationKind::SigningKeyMissing));
}

#[test]
fn the_signing_key_cannot_be_used_without_the_master_key() {
    let f = fixture();
    fill(&f, 2);
    f.store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    let other = MasterKeyring::single(MasterKey::generate(MasterKeyVersion::FIRST));
    let err = f.store.audit().verify_audit(&other).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Vault(ringside_vault::Error::SecretUnwrapFailed { .. })
        ),
        "another master key cannot unwrap the checkpoint key: {err}"
    );
}

#[test]
fn a_checkpoint_signs_only_a_chain_that_links_up_to_the_last_one() {
    let f = fixture();
    assert_eq!(
        f.store.audit().audit_checkpoint(&f.masters).unwrap(),
        None,
        "an empty log has nothing to sign"
    );
    fill(&f, 3);
    let first = f
        .store
        .audit()
        .audit_checkpoint(&f.masters)
        .unwrap()
        .unwrap();
    assert_eq!(
        f.store.audit().audit_checkpoint(&f.masters).unwrap(),
        None,
        "nothing new since the last checkpoint"
    );
    fill(&f, 2);
    tamper(&f, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 5");
    let err = f.store.audit().audit_checkpoint(&f.masters).unwrap_err();
    assert!(
        matches!(err, Error::AuditViolation(v) if v == at(5, ViolationKind::Edited)),
        "tampering is never signed over: {err}"
    );
    let count = count_rows(&f.store, "audit_checkpoints");
    assert_eq!(count, 1, "only the first checkpoint exists");
    let public = f
        .store
        .audit()
        .audit_public_key(&f.masters)
        .unwrap()
        .unwrap();
    let message = checkpoint_message("head", 3, &first.hash, first.time_ms);
    VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(&message, &Signature::from_bytes(&first.signature))
        .expect("the checkpoint verifies under the published key and documented message");
}

#[test]
fn a_master_key_rotation_keeps_the_signing_key() {
    let (_dir, store, source, mut masters) = with_key_file();
    store
        .audit()
        .record_audit(&ctx().entry("test.event", "thing"))
        .unwrap();
    store.audit().audit_checkpoint(&masters).unwrap().unwrap();
    let before = store.audit().audit_public_key(&masters).unwrap();
    assert_eq!(
        store.orgs().master_versions_in_use().unwrap(),
        vec![MasterKeyVersion(1)],
        "the wrapped signing key counts as a use of the master key"
    );

    let plan = masters.rotate_target(&source).unwrap();
    store
        .orgs()
        .rewrap_all(&masters, masters.get(plan.target).unwrap(), &ctx())
        .unwrap();
    masters.finish_rotation(&source, &plan).unwrap();
    let reloaded = source.load().unwrap();
    assert_eq!(reloaded.versions(), vec![MasterKeyVersion(2)]);
    assert_eq!(
        store.audit().audit_public_key(&reloaded).unwrap(),
        before,
        "the same signing key, now under v2"
    );
    store
        .audit()
        .verify_audit(&reloaded)
        .expect("old checkpoints verify after the rotation");
}

#[test]
fn a_system_secret_is_created_once_and_stored_only_wrapped() {
    let f = fixture();
    let first = f
        .store
        .secrets()
        .system_secret("blind-index", &f.masters)
        .unwrap();
    let again = f
        .store
        .secrets()
        .system_secret("blind-index", &f.masters)
        .unwrap();
    assert_eq!(*first, *again, "the same secret every time");
    let other = f
        .store
        .secrets()
        .system_secret("other", &f.masters)
        .unwrap();
    assert_ne!(*first, *other, "each purpose has its own");
    let wrapped: Vec<u8> = f
        .store
        .conn()
        .query_row(
            "SELECT wrapped FROM system_secrets WHERE purpose = 'blind-index'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !wrapped.windows(32).any(|w| w == &first[..]),
        "the stored bytes do not contain the secret"
    );
}
