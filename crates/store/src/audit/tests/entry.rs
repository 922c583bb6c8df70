//! What an entry may carry: personal data is refused before anything is written.

use super::*;

#[test]
fn validation_refuses_personal_data_shapes_and_names_only_the_field() {
    let ctx = AuditContext::system("test");
    let email = "zebulon.q@example.com";
    let cases = [
        (
            ctx.entry("org.create", "org").resource(email),
            "resource_id",
        ),
        (ctx.entry("org.create", "org").detail("who", email), "who"),
        (
            ctx.entry("org.create", "org")
                .detail("phone", "+14155550123"),
            "phone",
        ),
        (
            ctx.entry("org.create", "org")
                .detail("name", "Zebulon Quartermaine"),
            "name",
        ),
        (ctx.entry("create", "org"), "action"),
        (ctx.entry("Org.Create", "org"), "action"),
        (ctx.entry("org.create", "Org"), "resource_type"),
        (
            AuditEntry::new(
                Actor {
                    kind: ringside_core::wire::ActorKind::User,
                    id: email.to_owned(),
                },
                "org.create",
                "org",
            ),
            "actor",
        ),
    ];
    for (entry, field) in cases {
        let err = validate(&entry).expect_err("the entry must be refused");
        let message = err.to_string();
        assert!(
            matches!(&err, Error::InvalidAuditEntry { field: f, .. } if *f == field),
            "blamed on {field}: {message}"
        );
        for secret in [email, "+14155550123", "Zebulon"] {
            assert!(
                !message.contains(secret),
                "the message must not repeat the value: {message}"
            );
        }
    }
    let ok = ctx
        .entry("auth.login", "user")
        .resource(ringside_core::UserId::random())
        .count("attempts", 3)
        .flag("mfa", true)
        .detail("reason", "bad_password");
    validate(&ok).expect("ids, counts, flags and codes are accepted");
    assert_eq!(
        ok.details.to_json(),
        r#"{"attempts":3,"mfa":true,"reason":"bad_password"}"#,
        "details are compact JSON with sorted keys"
    );
}

#[test]
fn an_entry_carrying_personal_data_is_refused_and_nothing_is_written() {
    let f = fixture();
    let err = f
        .store
        .audit()
        .record_audit(
            &ctx()
                .entry("auth.login", "user")
                .detail("email", "zebulon@example.com"),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidAuditEntry { field: "email", .. }),
        "got {err}"
    );
    assert!(
        !err.to_string().contains("zebulon"),
        "the value is not echoed: {err}"
    );
    let count = count_rows(&f.store, "audit_log");
    assert_eq!(count, 0, "nothing was written");
}
