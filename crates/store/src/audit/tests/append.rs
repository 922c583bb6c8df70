//! No audit, no change: repository methods write their entry in their own transaction.

use super::*;

#[test]
fn every_org_change_writes_its_entry_and_never_the_org_name() {
    let (_dir, store, source, mut masters) = with_key_file();
    let user = UserId::random();
    let by_user = AuditContext::new(Actor::user(user), Some("203.0.113.7".parse().unwrap()));
    let org = store
        .orgs()
        .create_org("Zebulon Quartermaine Agency", &masters, &by_user)
        .unwrap();
    let mut keys = store.orgs().org_keyring(org.id, &masters).unwrap();
    store
        .orgs()
        .add_org_key_generation(&mut keys, &masters, &by_user)
        .unwrap();
    store
        .secrets()
        .system_secret("test-secret", &masters)
        .unwrap();
    let plan = masters.rotate_target(&source).unwrap();
    store
        .orgs()
        .rewrap_all(&masters, masters.get(plan.target).unwrap(), &ctx())
        .unwrap();
    store.orgs().delete_org(org.id, &by_user).unwrap();

    let conn = attacker(&store);
    let all = rows(&conn);
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "org.create",
            "org.data_key.add",
            "keys.rewrap",
            "org.delete"
        ],
        "one entry per change, in order"
    );
    let create = &all[0];
    assert_eq!(create.org.as_deref(), Some(org.id.to_string().as_str()));
    assert_eq!(create.actor_kind, "user");
    assert_eq!(create.actor_id, user.to_string());
    assert_eq!(create.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(create.resource_type, "org");
    assert_eq!(
        create.resource_id.as_deref(),
        Some(org.id.to_string().as_str())
    );
    assert_eq!(create.details, r#"{"data_key":"g1","master_key":"v1"}"#);
    assert_eq!(all[1].details, r#"{"data_key":"g2","master_key":"v1"}"#);
    let rewrap = &all[2];
    assert_eq!(
        rewrap.org, None,
        "a master-key rotation is installation-level"
    );
    assert_eq!(rewrap.resource_id.as_deref(), Some("v2"));
    assert_eq!(
        rewrap.details, r#"{"org_keys":2,"secrets":1}"#,
        "both org-key generations and the secret were re-wrapped"
    );
    for entry in &all {
        for field in [&entry.details, &entry.action, &entry.actor_id] {
            assert!(
                !field.contains("Zebulon"),
                "the org name never reaches the audit log: {field}"
            );
        }
    }
    store.audit().verify_audit(&masters).unwrap();
}

#[test]
fn an_audit_write_that_fails_rolls_the_change_back() {
    let f = fixture();
    let kept = f
        .store
        .orgs()
        .create_org("Kept", &f.masters, &ctx())
        .unwrap();
    Connection::open(f.store.path())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER audit_is_down BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit device unavailable'); END;",
        )
        .unwrap();

    let err = f
        .store
        .orgs()
        .create_org("Never", &f.masters, &ctx())
        .expect_err("no audit, no change");
    assert!(
        err.to_string().contains("audit device unavailable"),
        "the audit failure is the error: {err}"
    );
    let orgs = f.store.orgs().list().unwrap();
    assert_eq!(orgs.len(), 1, "the org was not created");
    let keys = count_rows(&f.store, "org_keys");
    assert_eq!(keys, 1, "nor its key");

    assert!(
        f.store.orgs().delete_org(kept.id, &ctx()).is_err(),
        "the delete fails with its audit entry"
    );
    assert!(
        f.store.orgs().org(kept.id).is_ok(),
        "and the org is still there"
    );

    let mut keyring = f.store.orgs().org_keyring(kept.id, &f.masters).unwrap();
    assert!(
        f.store
            .orgs()
            .add_org_key_generation(&mut keyring, &f.masters, &ctx())
            .is_err()
    );
    assert_eq!(
        f.store.orgs().org_key_rows(kept.id).unwrap().len(),
        1,
        "no new generation was stored"
    );

    let mut masters = f.masters;
    masters
        .insert(MasterKey::generate(MasterKeyVersion(2)))
        .unwrap();
    assert!(
        f.store
            .orgs()
            .rewrap_all(&masters, masters.current(), &ctx())
            .is_err()
    );
    assert_eq!(
        f.store.orgs().master_versions_in_use().unwrap(),
        vec![MasterKeyVersion(1)],
        "nothing was re-wrapped"
    );
}
