//! An org admin's query: only that org's entries, filtered and paged.

use super::*;

fn org_event(f: &Fixture, org: OrgId, actor: &Actor, action: &'static str, outcome: AuditOutcome) {
    f.clock.advance(Duration::from_secs(60));
    let entry = AuditEntry::new(actor.clone(), action, "user")
        .in_org(org)
        .resource(UserId::random())
        .outcome(outcome);
    f.store.audit().record_audit(&entry).unwrap();
}

#[test]
fn an_org_admin_sees_only_that_orgs_entries_filtered_and_paged() {
    let f = fixture();
    let (a, b) = (OrgId::random(), OrgId::random());
    let alice = Actor::user(UserId::random());
    let bob = Actor::user(UserId::random());
    let start = f.clock.now();
    for i in 0..6 {
        let actor = if i % 2 == 0 { &alice } else { &bob };
        org_event(&f, a, actor, "auth.login", AuditOutcome::Success);
        org_event(&f, b, actor, "auth.login", AuditOutcome::Failure);
    }
    org_event(&f, a, &alice, "auth.logout", AuditOutcome::Success);
    org_event(&f, a, &alice, "user.role_change", AuditOutcome::Denied);
    fill(&f, 2); // installation-level

    let query = |filter: AuditFilter| {
        f.store
            .audit()
            .query_audit(a, &filter, AuditPage::default())
            .unwrap()
    };
    let everything = query(AuditFilter::default());
    assert_eq!(everything.len(), 8, "org A's eight entries");
    let org_a = a.to_string();
    assert!(
        everything
            .iter()
            .all(|r| r.org.as_deref() == Some(org_a.as_str())),
        "never another org's or an installation-level entry"
    );
    assert!(
        everything.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );

    let action = |action: &str| AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    let by_actor = AuditFilter {
        actor: Some(bob.clone()),
        ..AuditFilter::default()
    };
    let by_resource_type = AuditFilter {
        resource_type: Some("org".to_owned()),
        ..AuditFilter::default()
    };
    for (filter, expected, what) in [
        (by_actor, 3, "by actor"),
        (action("auth.login"), 6, "by exact action"),
        (action("auth.*"), 7, "by action prefix"),
        (
            action("auth"),
            0,
            "a bare word is an exact match, not a prefix",
        ),
        (by_resource_type, 0, "by resource type"),
    ] {
        assert_eq!(query(filter).len(), expected, "{what}");
    }
    let window = query(AuditFilter {
        from: Some(start + Duration::from_secs(60 * 3)),
        to: Some(start + Duration::from_secs(60 * 7)),
        ..AuditFilter::default()
    });
    assert_eq!(
        window.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![3, 5],
        "from inclusive, to exclusive"
    );
    let denied = query(AuditFilter {
        actor: Some(alice.clone()),
        action: Some("user.role_change".to_owned()),
        ..AuditFilter::default()
    });
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].outcome, AuditOutcome::Denied);
    assert_eq!(denied[0].actor.kind, ActorKind::User);

    let page = |after_seq: Option<AuditSeq>, limit: u32| {
        f.store
            .audit()
            .query_audit(a, &AuditFilter::default(), AuditPage { after_seq, limit })
            .unwrap()
    };
    let first = page(None, 3);
    let next = page(Some(AuditSeq(first[2].seq)), 3);
    assert_eq!(first.len(), 3);
    assert!(
        next[0].seq > first[2].seq,
        "the next page continues after the last seq"
    );
    assert_eq!(
        [first, next].concat(),
        everything[..6].to_vec(),
        "two pages are the first six entries"
    );
    let huge = page(None, 1_000_000);
    assert_eq!(huge.len(), 8, "a limit above 500 is clamped, not an error");
    assert!(
        f.store
            .audit()
            .query_audit(
                OrgId::random(),
                &AuditFilter::default(),
                AuditPage::default()
            )
            .unwrap()
            .is_empty(),
        "an unknown org sees nothing"
    );
}
