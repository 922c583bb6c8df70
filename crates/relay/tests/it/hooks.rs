//! `POST /v1/hooks/{integration_id}` over a real socket: signed events accepted once into the
//! sealed store, tampered ones refused with nothing stored, unknown ids and oversize bodies
//! refused, one org's flood limited without touching another's, and the RingCentral handshake.

use ringside_core::{IntegrationId, OrgId};
use ringside_providers::{ProviderKind, ProviderSecret, standard, twilio};

use crate::office::{Office, Setup};
use crate::utils::assert_not_on_disk;

/// A phone number that must never appear in clear in the database files.
const MARKER: &str = "15550100199";

impl Office {
    fn url(&self, id: &str) -> String {
        format!("http://{}/v1/hooks/{id}", self.relay.addr)
    }

    /// Distinct events accepted (a call event is applied, not inboxed: the log is the record).
    fn accepted(&self, id: &str) -> u64 {
        let id: IntegrationId = id.parse().unwrap();
        self.operator.store.inbox().accepted_events(id).unwrap()
    }

    async fn post(&self, id: &str, headers: &[(&str, String)], body: Vec<u8>) -> reqwest::Response {
        let mut request = self.http.post(self.url(id)).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }

    /// A Standard Webhooks call event, signed now with `secret`: its headers and body.
    fn standard_event(&self, secret: &str, msg_id: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let body = format!(
            r#"{{"type":"call.ringing","timestamp":"{}","data":{{"call_id":"c-1","direction":"inbound","from":"+{MARKER}","to":["+15550100100"]}}}}"#,
            self.relay.now_rfc3339()
        )
        .into_bytes();
        let now = self.relay.now_unix();
        let signature =
            standard::sign(&ProviderSecret::new(secret).unwrap(), msg_id, now, &body).unwrap();
        (
            vec![
                ("webhook-id", msg_id.to_owned()),
                ("webhook-timestamp", now.to_string()),
                ("webhook-signature", signature),
                ("content-type", "application/json".to_owned()),
            ],
            body,
        )
    }
}

fn org(office: &Office, name: &str) -> OrgId {
    office.operator.create_org(name)
}

#[tokio::test]
async fn a_signed_standard_webhook_is_accepted_once_sealed_and_a_tampered_one_stores_nothing() {
    let office = Office::open().await;
    let org = org(&office, "Acme Insurance");
    let (id, secret) = office
        .operator
        .integration(org, ProviderKind::Standard, None);
    let (headers, body) = office.standard_event(&secret, &format!("msg_{MARKER}"));

    let first = office.post(&id, &headers, body.clone()).await;
    assert_eq!(first.status(), 200, "a signed event is accepted");
    assert_eq!(office.accepted(&id), 1, "the event is accepted");

    let again = office.post(&id, &headers, body.clone()).await;
    assert_eq!(again.status(), 200, "a duplicate is answered 200");
    assert_eq!(office.accepted(&id), 1, "a duplicate is not accepted again");

    let (headers, mut tampered) = office.standard_event(&secret, "msg_tampered");
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    let refused = office.post(&id, &headers, tampered).await;
    assert_eq!(
        refused.status(),
        401,
        "a tampered byte fails authentication"
    );
    assert!(
        !refused.headers().contains_key("www-authenticate"),
        "a webhook 401 does not offer the bearer scheme"
    );
    assert_eq!(
        office.accepted(&id),
        1,
        "nothing of the tampered event is stored"
    );

    // Neither the number nor the event id (which embeds it) is stored in clear.
    assert_not_on_disk(&office.relay.config.data_dir, &[MARKER]);
}

#[tokio::test]
async fn unknown_or_malformed_integration_ids_get_the_same_404_and_oversize_bodies_get_413() {
    let office = Office::open().await;
    let org = org(&office, "Acme Insurance");
    let (id, _) = office
        .operator
        .integration(org, ProviderKind::Standard, None);

    let unknown = office
        .post(&IntegrationId::random().to_string(), &[], b"{}".to_vec())
        .await;
    assert_eq!(unknown.status(), 404, "an unknown integration is 404");
    let unknown_body = unknown.text().await.unwrap();
    let malformed = office.post("not-an-id", &[], b"{}".to_vec()).await;
    assert_eq!(malformed.status(), 404, "a malformed id is 404 too");
    assert_eq!(
        malformed.text().await.unwrap(),
        unknown_body,
        "the two 404s cannot be told apart"
    );

    let oversize = office.post(&id, &[], vec![b'a'; 1024 * 1024 + 1]).await;
    assert_eq!(oversize.status(), 413, "a body over 1 MiB is refused");
    assert_eq!(office.accepted(&id), 0, "nothing is stored");
}

#[tokio::test]
async fn a_revoked_integration_answers_404_even_to_a_correctly_signed_event() {
    let office = Office::open().await;
    let org = org(&office, "Acme Insurance");
    let (id, secret) = office
        .operator
        .integration(org, ProviderKind::Standard, None);
    office.operator.revoke_integration(org, &id);
    let (headers, body) = office.standard_event(&secret, "msg_revoked");
    let reply = office.post(&id, &headers, body).await;
    assert_eq!(reply.status(), 404, "a revoked integration is not found");
    assert_eq!(office.accepted(&id), 0, "nothing is stored");
}

#[tokio::test]
async fn a_revoked_integrations_url_stops_using_its_orgs_quota_and_made_up_ids_are_limited() {
    let office = Office::with(Setup {
        toml: "[webhooks]\nper_org_per_minute = 4\n",
        ..Setup::default()
    })
    .await;
    let org = org(&office, "Acme Insurance");
    let (old, old_secret) = office
        .operator
        .integration(org, ProviderKind::Standard, None);
    let (new, new_secret) = office
        .operator
        .integration(org, ProviderKind::Standard, None);
    let (headers, body) = office.standard_event(&old_secret, "msg_before");
    assert_eq!(office.post(&old, &headers, body).await.status(), 200);
    office.operator.revoke_integration(org, &old);
    for n in 0..5 {
        let (headers, body) = office.standard_event(&old_secret, &format!("msg_leaked_{n}"));
        assert_eq!(office.post(&old, &headers, body).await.status(), 404);
    }
    for n in 0..2 {
        let (headers, body) = office.standard_event(&new_secret, &format!("msg_new_{n}"));
        assert_eq!(
            office.post(&new, &headers, body).await.status(),
            200,
            "the leaked, revoked URL did not use up the org's quota"
        );
    }

    let mut statuses = Vec::new();
    for _ in 0..101 {
        let made_up = IntegrationId::random().to_string();
        statuses.push(
            office
                .post(&made_up, &[], b"{}".to_vec())
                .await
                .status()
                .as_u16(),
        );
    }
    // The revoked URL's answers above count too, so the limit comes a few ids early.
    let limited = statuses.iter().position(|s| *s == 429);
    assert!(
        limited.is_some_and(|at| at >= 90 && statuses[..at].iter().all(|s| *s == 404)),
        "made-up ids count against the address: {statuses:?}"
    );
}

#[tokio::test]
async fn a_signed_twilio_webhook_is_accepted_once_and_a_tampered_one_is_401() {
    let office = Office::open().await;
    let org = org(&office, "Acme Insurance");
    let token = "twilio-auth-token-0123456789abcdef";
    let (id, _) = office
        .operator
        .integration(org, ProviderKind::Twilio, Some(token));
    let params = [
        ("CallSid", "CA0001"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+15550100199"),
        ("To", "+15550100100"),
    ];
    let signature = twilio::signature(token.as_bytes(), &office.url(&id), &params);
    let body = serde_urlencoded_form(&params);
    let headers = vec![
        ("x-twilio-signature", signature),
        (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];

    let first = office.post(&id, &headers, body.clone().into_bytes()).await;
    assert_eq!(first.status(), 200, "a signed Twilio event is accepted");
    let again = office.post(&id, &headers, body.clone().into_bytes()).await;
    assert_eq!(again.status(), 200, "the duplicate is answered 200");
    assert_eq!(office.accepted(&id), 1, "one event for the two deliveries");

    let tampered = body.replace("ringing", "rinGing");
    let refused = office.post(&id, &headers, tampered.into_bytes()).await;
    assert_eq!(
        refused.status(),
        401,
        "a tampered form fails authentication"
    );
    assert_eq!(office.accepted(&id), 1, "nothing more is stored");
}

#[tokio::test]
async fn behind_a_proxy_twilio_signatures_are_checked_against_the_configured_public_url() {
    let office = Office::with(Setup {
        toml: "public_url = \"https://relay.example.com/\"\n",
        ..Setup::default()
    })
    .await;
    let org = org(&office, "Acme Insurance");
    let token = "twilio-auth-token-0123456789abcdef";
    let (id, _) = office
        .operator
        .integration(org, ProviderKind::Twilio, Some(token));
    let params = [("CallSid", "CA0002"), ("CallStatus", "ringing")];
    let body = serde_urlencoded_form(&params).into_bytes();
    let form = (
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    );

    let public = format!("https://relay.example.com/v1/hooks/{id}");
    let signed_public = twilio::signature(token.as_bytes(), &public, &params);
    let reply = office
        .post(
            &id,
            &[("x-twilio-signature", signed_public), form.clone()],
            body.clone(),
        )
        .await;
    assert_eq!(
        reply.status(),
        200,
        "the URL Twilio called is the public one"
    );

    let signed_local = twilio::signature(token.as_bytes(), &office.url(&id), &params);
    let reply = office
        .post(&id, &[("x-twilio-signature", signed_local), form], body)
        .await;
    assert_eq!(
        reply.status(),
        401,
        "a signature over the relay's own address is not the public URL's"
    );
}

fn serde_urlencoded_form(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn a_ringcentral_handshake_echoes_the_validation_token_in_a_small_answer() {
    let office = Office::open().await;
    let org = org(&office, "Acme Insurance");
    let (id, _) = office.operator.integration(
        org,
        ProviderKind::Ringcentral,
        Some("rc-verification-token"),
    );
    let reply = office
        .post(
            &id,
            &[("validation-token", "abc-123".to_owned())],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status(), 200, "the handshake is answered 200");
    assert_eq!(
        reply.headers().get("validation-token").unwrap(),
        "abc-123",
        "the token is echoed"
    );
    assert!(
        reply.bytes().await.unwrap().len() < 1024,
        "the answer stays under 1 KB"
    );
    assert_eq!(office.accepted(&id), 0, "a handshake stores no event");
}

#[tokio::test]
async fn the_201st_webhook_in_a_minute_for_one_org_is_429_while_another_org_still_gets_200() {
    let office = Office::open().await;
    let flooding = org(&office, "Flooding Agency");
    let quiet = org(&office, "Quiet Agency");
    let (flood_id, _) = office
        .operator
        .integration(flooding, ProviderKind::Standard, None);
    let (quiet_id, quiet_secret) = office
        .operator
        .integration(quiet, ProviderKind::Standard, None);

    for n in 0..200 {
        let reply = office.post(&flood_id, &[], b"{}".to_vec()).await;
        assert_ne!(reply.status(), 429, "request {n} is within the quota");
    }
    let limited = office.post(&flood_id, &[], b"{}".to_vec()).await;
    assert_eq!(limited.status(), 429, "the 201st request is refused");
    assert!(
        limited.headers().contains_key("retry-after"),
        "the 429 says when to retry"
    );

    let (headers, body) = office.standard_event(&quiet_secret, "msg_quiet");
    let other = office.post(&quiet_id, &headers, body).await;
    assert_eq!(other.status(), 200, "another org's webhook is not limited");
}
