//! Tests of the integrations repository on real SQLite files: the provider secret is sealed in
//! the file, one org never sees another's integrations, every change lands with its audit entry,
//! and a revoked integration has no secret left.

use ringside_core::wire::Actor;
use ringside_core::{IntegrationId, OrgId};
use ringside_vault::OrgKeyring;

use crate::identity_tests::{Fixture, fixture};
use crate::{AuditEntry, Error, NewIntegration};

const NOW: i64 = 1_795_424_400; // 2026-11-23 09:00 UTC
const SECRET: &str = "whsec_integration-secret-marker-7f3a";

fn audit(action: &'static str, org: OrgId, id: IntegrationId) -> AuditEntry {
    AuditEntry::new(Actor::system("test"), action, "integration")
        .in_org(org)
        .resource(id)
}

/// A new integration of `org` with `provider` and `label`, under a fresh id.
fn new_integration(org: OrgId, provider: &str, label: &str) -> NewIntegration {
    NewIntegration {
        id: IntegrationId::random(),
        org,
        provider: provider.to_owned(),
        settings: "{}".to_owned(),
        label: label.to_owned(),
        created_at: NOW,
    }
}

impl Fixture {
    fn create(&self, org: OrgId, keys: &OrgKeyring, provider: &str, secret: &str) -> IntegrationId {
        let new = new_integration(org, provider, "Main line");
        let id = new.id;
        self.store
            .integrations()
            .create_integration(&new, secret, keys, &audit("integration.create", org, id))
            .unwrap();
        id
    }
}

#[test]
fn the_provider_secret_is_sealed_in_the_database_file_and_opens_for_the_webhook() {
    let f = fixture();
    let (org, keys) = f.org("Acme Insurance");
    let id = f.create(org, &keys, "standard", SECRET);

    let (integration, sealed) = f
        .store
        .integrations()
        .integration_for_webhook(id)
        .unwrap()
        .expect("an active integration is found by its id alone");
    assert_eq!(integration.org, org, "the row names its org");
    assert_eq!(integration.provider, "standard");
    let opened = f
        .store
        .integrations()
        .open_integration_secret(integration, &sealed, &keys)
        .unwrap();
    assert_eq!(opened.secret.as_str(), SECRET, "the secret opens as sealed");
    assert!(
        !format!("{opened:?}").contains("marker"),
        "Debug never shows the secret"
    );

    f.assert_sealed(&[SECRET, "integration-secret-marker"]);
}

#[test]
fn one_org_never_sees_lists_opens_or_deletes_another_orgs_integration() {
    let f = fixture();
    let (a, keys_a) = f.org("Agency A");
    let (b, keys_b) = f.org("Agency B");
    let of_a = f.create(a, &keys_a, "dialpad", SECRET);
    let of_b = f.create(b, &keys_b, "twilio", "other-secret");

    let listed: Vec<_> = f
        .store
        .integrations()
        .list(a)
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![of_a], "org A lists only its own integration");
    assert!(
        matches!(
            f.store.integrations().integration(a, of_b),
            Err(Error::NotFound(_))
        ),
        "org A cannot read org B's integration by id"
    );
    assert!(
        matches!(
            f.store.integrations().delete_integration(
                a,
                of_b,
                NOW,
                &audit("integration.delete", a, of_b)
            ),
            Err(Error::NotFound(_))
        ),
        "org A cannot revoke org B's integration"
    );
    let (integration, sealed) = f
        .store
        .integrations()
        .integration_for_webhook(of_b)
        .unwrap()
        .unwrap();
    assert!(
        f.store
            .integrations()
            .open_integration_secret(integration, &sealed, &keys_a)
            .is_err(),
        "org A's keyring cannot open org B's secret"
    );
    assert!(
        f.store
            .integrations()
            .integration_for_webhook(of_b)
            .unwrap()
            .is_some(),
        "org B's integration is untouched"
    );
}

#[test]
fn revoking_deletes_the_sealed_secret_and_each_change_has_its_audit_entry() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    let before = f.audit_count();
    let id = f.create(org, &keys, "vonage", SECRET);
    assert_eq!(
        f.audit_count(),
        before + 1,
        "create is audited in its transaction"
    );

    // An entry the audit log refuses rolls the revocation back.
    let refused = audit("integration.delete", org, id).detail("note", "Not A Code!");
    assert!(
        f.store
            .integrations()
            .delete_integration(org, id, NOW, &refused)
            .is_err()
    );
    assert!(
        f.store
            .integrations()
            .integration_for_webhook(id)
            .unwrap()
            .is_some(),
        "no audit entry, no revocation"
    );
    assert_eq!(f.audit_count(), before + 1, "nothing was written");

    f.store
        .integrations()
        .delete_integration(org, id, NOW + 5, &audit("integration.delete", org, id))
        .unwrap();
    assert_eq!(
        f.audit_count(),
        before + 2,
        "delete is audited in its transaction"
    );
    assert!(
        f.store
            .integrations()
            .integration_for_webhook(id)
            .unwrap()
            .is_none(),
        "a revoked integration is not found by the webhook path"
    );
    assert_eq!(
        f.store
            .integrations()
            .integration(org, id)
            .unwrap()
            .disabled_at,
        Some(NOW + 5),
        "the list shows when it was revoked"
    );
    let sealed: Option<Vec<u8>> = f
        .store
        .conn()
        .query_row(
            "SELECT secret_sealed FROM integrations WHERE id = ?1",
            [id.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sealed.is_none(), "the sealed secret is deleted");
    assert!(
        matches!(
            f.store.integrations().delete_integration(
                org,
                id,
                NOW,
                &audit("integration.delete", org, id)
            ),
            Err(Error::NotFound(_))
        ),
        "revoking twice is not found"
    );
}

#[test]
fn an_unknown_provider_or_a_long_label_is_refused_by_the_schema() {
    let f = fixture();
    let (org, keys) = f.org("Acme");
    for (provider, label) in [("skype", "ok"), ("dialpad", &*"x".repeat(65))] {
        let new = new_integration(org, provider, label);
        let id = new.id;
        assert!(
            f.store
                .integrations()
                .create_integration(&new, SECRET, &keys, &audit("integration.create", org, id))
                .is_err(),
            "{provider} with a {}-character label is refused",
            label.len()
        );
    }
    assert!(
        f.store.integrations().list(org).unwrap().is_empty(),
        "nothing was stored"
    );
}

#[test]
fn a_webhook_event_is_accepted_once_and_its_inbox_row_is_sealed() {
    let f = fixture();
    let (org, keys) = f.org("Acme Insurance");
    let id = f.create(org, &keys, "standard", SECRET);
    let event = crate::InboundEvent {
        integration: id,
        org,
        event_id: "evt-+15550100199",
        event_json: br#"{"from":"+15550100199"}"#,
        received_at: NOW,
    };

    let first = f.store.inbox().accept_webhook_event(&event, &keys).unwrap();
    let again = f.store.inbox().accept_webhook_event(&event, &keys).unwrap();

    assert_eq!(
        first,
        crate::Accepted::Accepted,
        "the first sighting is accepted"
    );
    assert_eq!(
        again,
        crate::Accepted::Duplicate,
        "the same event again is a duplicate"
    );
    assert_eq!(
        f.store.inbox().inbox_len(id).unwrap(),
        1,
        "one inbox row, not two"
    );
    let duplicates: i64 = f
        .store
        .conn()
        .query_row("SELECT duplicates FROM webhook_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(duplicates, 1, "the duplicate is counted");
    let raw: Vec<u8> = f
        .store
        .conn()
        .query_row("SELECT event_sealed FROM inbox", [], |r| r.get(0))
        .unwrap();
    assert!(
        !raw.windows(11).any(|w| w == b"15550100199"),
        "the inbox row does not hold the number in clear"
    );
    let ids: i64 = f
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM webhook_events WHERE instr(event_hash, CAST('15550100199' AS BLOB)) > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ids, 0, "the event id is stored only as a hash");
    let events = f.store.inbox().inbox_events(org, &keys).unwrap();
    assert_eq!(
        events,
        vec![event.event_json.to_vec()],
        "the pipeline opens the event with the org's keyring"
    );
}

#[test]
fn the_webhook_log_is_pruned_past_its_retention_and_the_inbox_is_kept() {
    let f = fixture();
    let (org, keys) = f.org("Acme Insurance");
    let id = f.create(org, &keys, "standard", SECRET);
    let day = 86_400;
    let event = |event_id, received_at| crate::InboundEvent {
        integration: id,
        org,
        event_id,
        event_json: b"{}",
        received_at,
    };
    let now = f.store.now();
    f.store
        .inbox()
        .accept_webhook_event(&event("old", now - 3 * day), &keys)
        .unwrap();
    f.store
        .inbox()
        .accept_webhook_event(&event("new", now - day / 2), &keys)
        .unwrap();

    let gone = f
        .store
        .inbox()
        .prune_webhook_events(std::time::Duration::from_secs(2 * 86_400))
        .unwrap();

    assert_eq!(gone, 1, "only the row past retention is pruned");
    assert_eq!(
        f.store.inbox().inbox_len(id).unwrap(),
        2,
        "the inbox is left to the pipeline"
    );
}
