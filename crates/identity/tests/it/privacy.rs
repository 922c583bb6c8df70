use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::Role;
use ringside_identity::{DeviceInfo, LoginOutcome, LoginRequest};

use super::{PASSWORD, World, code, ip};

const EMAIL: &str = "zebulon.quartermaine@marker-agency.example";
const NAME: &str = "Zebulon Quartermaine";
const DEVICE: &str = "Zebulons-Marker-ThinkPad";

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Invitation -> acceptance -> sign-in -> TOTP enrolment -> sign-in with a code -> a wrong
/// password -> refresh -> session list: everything that handles the markers.
fn full_flow(w: &World) -> Vec<String> {
    let mut messages = Vec::new();
    let org = w.org("Marker Agency");
    let invitation = w.invite(org, EMAIL, Role::Owner);
    w.accept(invitation.code.expose(), NAME, PASSWORD).unwrap();
    let login = |second: Option<&str>, password: &str| {
        w.auth.login(&LoginRequest {
            email: EMAIL,
            password,
            second_factor: second,
            ip: ip(1),
            device: DeviceInfo {
                name: DEVICE,
                token: None,
            },
        })
    };
    let LoginOutcome::SignedIn(tokens) = login(None, PASSWORD).unwrap() else {
        panic!("signed in");
    };
    let (secret, _) = super::enrol(w, &tokens);
    w.advance(Duration::from_secs(30));
    assert_eq!(
        login(Some(&code(w, &secret, 0)), PASSWORD).unwrap().code(),
        "signed_in"
    );
    messages.push(login(None, "wrong password here").unwrap_err().to_string());
    messages.push(login(Some("000000"), PASSWORD).unwrap_err().to_string());
    messages.push(
        w.auth
            .invite_as_operator(org, EMAIL, Role::Agent)
            .unwrap_err()
            .to_string(),
    );
    messages.push(
        w.accept(invitation.code.expose(), NAME, PASSWORD)
            .unwrap_err()
            .to_string(),
    );
    let refreshed = w.refresh(&tokens);
    let p = w.principal(&refreshed);
    let sessions = w.auth.list_sessions(&p).unwrap();
    assert!(sessions.iter().any(|s| s.device_name.expose() == DEVICE));
    messages.push(format!("{tokens:?} {sessions:?} {p:?}"));
    messages
}

fn markers() -> [&'static str; 5] {
    [
        EMAIL,
        "zebulon",
        "quartermaine",
        "marker-agency",
        "thinkpad",
    ]
}

#[test]
fn emails_names_and_device_names_are_sealed_in_the_database_file_and_wal() {
    let w = World::new();
    full_flow(&w);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(w.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(bytes.len() > 8192, "the database and its WAL were read");
    let lower = String::from_utf8_lossy(&bytes).to_lowercase();
    for marker in markers() {
        assert!(
            !lower.contains(&marker.to_lowercase()),
            "{marker:?} is readable in the data folder"
        );
    }
}

#[test]
fn neither_logs_nor_error_messages_nor_debug_output_carry_personal_data() {
    let w = World::new();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let messages = tracing::subscriber::with_default(subscriber, || full_flow(&w));
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let everything = format!("{logs}\n{}", messages.join("\n")).to_lowercase();
    assert!(!messages.is_empty());
    for marker in markers() {
        assert!(
            !everything.contains(&marker.to_lowercase()),
            "{marker:?} leaked into logs, errors or Debug output:\n{everything}"
        );
    }
    assert!(
        !everything.contains(PASSWORD),
        "the password never appears anywhere"
    );
}
