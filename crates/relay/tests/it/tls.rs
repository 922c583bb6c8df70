use std::path::Path;

use crate::utils::TestRelay;

/// A self-signed certificate for 127.0.0.1, written as PEM files; returns the TOML that uses it
/// and the certificate for the client to trust.
fn self_signed(dir: &Path) -> (String, reqwest::Certificate) {
    let key =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = key.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), key.signing_key.serialize_pem()).unwrap();
    let toml = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    (
        toml,
        reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap(),
    )
}

#[tokio::test]
async fn with_a_certificate_the_relay_speaks_tls_1_3() {
    let dir = tempfile::tempdir().unwrap();
    let (toml, cert) = self_signed(dir.path());
    let relay = TestRelay::start(dir.path(), &toml).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(cert)
        .min_tls_version(reqwest::tls::Version::TLS_1_3)
        .build()
        .unwrap();
    let res = client
        .get(format!("https://127.0.0.1:{}/healthz", relay.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a TLS 1.3 client is served");
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn tls_1_2_clients_and_plain_http_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (toml, cert) = self_signed(dir.path());
    let relay = TestRelay::start(dir.path(), &toml).await;
    let old = reqwest::Client::builder()
        .add_root_certificate(cert)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{}/healthz", relay.addr.port());
    assert!(
        old.get(&url).send().await.is_err(),
        "TLS 1.2 must not be negotiated"
    );
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", relay.addr.port())).await;
    assert!(
        plain.map(|r| r.status() != 200).unwrap_or(true),
        "plain HTTP on the TLS port must not be served"
    );
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn an_unreadable_certificate_stops_start_up_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[tls]\ncert = \"/nonexistent/cert.pem\"\nkey = \"/nonexistent/key.pem\"\n";
    let config = crate::utils::config_for(dir.path(), toml);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = ringside_relay::run(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("tls.cert"),
        "the message names the key: {err}"
    );
}
