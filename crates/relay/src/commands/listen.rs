//! `ringside-relay listen`: signs in to a relay as a user and prints that user's screen pops as
//! they arrive — for operators checking an installation, and for headless checks in scripts.
//!
//! It is a client of the relay like the desktop app (it uses `ringside-client`, never the
//! relay's own store), so it works from any machine that can reach the relay, and what it shows
//! is exactly what an agent's app would be sent.
//!
//! Personal data: the number is masked to its last four digits (`***-***-0199`) and caller or
//! contact names are left out unless `--show-numbers`; with `--json` the message is printed as
//! the relay sent it, with the same masking. Events go to standard output, one line each;
//! connection changes and prompts go to standard error. The password comes from
//! `RINGSIDE_PASSWORD` or standard input (never a terminal, where it would echo); a second
//! factor from `RINGSIDE_TOTP` or a prompt. The session is signed out when the command ends.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the command's job is to print

use std::io::{BufRead, IsTerminal, Write};

use ringside_client::stream::{CloseReason, ConnectionState, StreamEvent, StreamOptions};
use ringside_client::{Client, ClientError, LoginStep, Session};
use ringside_core::wire::{
    Direction, LoginRequest, MatchState, SecondFactorRequest, ServerMessage,
};
use ringside_core::{PhoneNumber, Pii};
use serde_json::Value;

/// `ringside-relay listen` arguments.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// The relay's address: https://…, or http://… for a relay on this machine.
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// The user to sign in as. The password is read from RINGSIDE_PASSWORD, or from standard
    /// input when it is not a terminal; a second-factor code from RINGSIDE_TOTP, or prompted.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// The name this session shows in the user's session list.
    #[arg(long, value_name = "NAME", default_value = "ringside-relay listen")]
    pub device_name: String,
    /// Print each message as JSON (one object per line).
    #[arg(long)]
    pub json: bool,
    /// Show phone numbers and names in full (otherwise only a number's last four digits).
    #[arg(long)]
    pub show_numbers: bool,
}

/// Why `listen` stopped with a failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// The relay refused or could not be reached.
    #[error("{}", with_causes(.0))]
    Client(#[from] ClientError),
    /// No password, or no second-factor code, could be read.
    #[error("{0}")]
    Credentials(&'static str),
    /// The stream stopped for good (revoked session, incompatible relay, …).
    #[error("the stream stopped: {0}")]
    Stream(String),
    /// Standard output or the runtime failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs the command until Ctrl-C (or SIGTERM), or until the stream stops for good.
pub fn run(args: &ListenArgs) -> Result<(), ListenError> {
    let client = Client::new(&args.relay)?;
    let password = read_password()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let session = sign_in(&client, args, password).await?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let mut out = std::io::stdout();
        let result = listen(&session, args, &mut out, shutdown).await;
        // Best effort: a session that is already over cannot be signed out.
        let _ = session.logout().await;
        result
    })
}

/// Signs in with `password` and, when the account asks for it, a second factor.
async fn sign_in(
    client: &Client,
    args: &ListenArgs,
    password: Pii<String>,
) -> Result<Session, ListenError> {
    let step = client
        .login(&LoginRequest {
            email: Pii::new(args.email.clone()),
            password,
            second_factor: None,
            device_name: Pii::new(args.device_name.clone()),
            device_token: None,
        })
        .await?;
    match step {
        LoginStep::SignedIn(session) => Ok(*session),
        LoginStep::SecondFactor { challenge, .. } => {
            let code = tokio::task::spawn_blocking(read_totp)
                .await
                .map_err(|_| ListenError::Credentials("reading the code was interrupted"))??;
            Ok(client
                .second_factor(&SecondFactorRequest { challenge, code })
                .await?)
        }
    }
}

/// Prints the stream until `shutdown` resolves (then closes it politely) or the stream stops.
pub async fn listen(
    session: &Session,
    args: &ListenArgs,
    out: &mut (dyn Write + Send),
    shutdown: impl Future<Output = ()>,
) -> Result<(), ListenError> {
    let printer = Printer {
        json: args.json,
        show_numbers: args.show_numbers,
    };
    let mut stream = session.stream(StreamOptions::default());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let event = tokio::select! {
            () = &mut shutdown => {
                stream.close().await;
                eprintln!("stopped");
                return Ok(());
            }
            event = stream.next() => event,
        };
        match event {
            None => return Ok(()),
            Some(StreamEvent::Message(message)) => {
                writeln!(out, "{}", printer.message(&message))?;
                out.flush()?;
            }
            Some(StreamEvent::State(ConnectionState::Closed(CloseReason::Stopped))) => {
                return Ok(());
            }
            Some(StreamEvent::State(ConnectionState::Closed(reason))) => {
                return Err(ListenError::Stream(reason.to_string()));
            }
            Some(StreamEvent::State(state)) => eprintln!("{}", state_line(&state)),
        }
    }
}

/// An error and its causes on one line ("could not reach the relay: …: connection refused"):
/// a transport error's own message says too little to act on.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// One line for a connection change.
fn state_line(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Connected(hello) => format!(
            "connected as {} (heartbeat {} s, last seq {})",
            hello.user_id, hello.heartbeat_secs, hello.last_seq
        ),
        ConnectionState::Reconnecting {
            attempt,
            delay,
            cause,
        } => format!(
            "{cause}; reconnecting in {:.1} s (attempt {attempt})",
            delay.as_secs_f64()
        ),
        ConnectionState::Closed(reason) => format!("closed: {reason}"),
    }
}

/// How events are printed.
#[derive(Debug, Clone, Copy)]
struct Printer {
    json: bool,
    show_numbers: bool,
}

impl Printer {
    /// One line for an event: human-readable, or the message's JSON.
    fn message(self, message: &ServerMessage) -> String {
        if self.json {
            let mut value = serde_json::to_value(message).unwrap_or(Value::Null);
            if !self.show_numbers {
                mask_json(&mut value);
            }
            return value.to_string();
        }
        let seq = message.seq().unwrap_or_default();
        match message {
            ServerMessage::Pop(pop) => {
                let number = pop
                    .number
                    .as_ref()
                    .map_or_else(|| "withheld".to_owned(), |n| self.number(n.expose()));
                let name = match (&pop.caller_name, self.show_numbers) {
                    (Some(name), true) => format!(" \"{}\"", name.expose()),
                    _ => String::new(),
                };
                let direction = match pop.direction {
                    Direction::Inbound => "inbound",
                    Direction::Outbound => "outbound",
                    Direction::Unknown => "unknown",
                };
                let opted_out = if pop.sms_opted_out {
                    "  texts: opted out"
                } else {
                    ""
                };
                format!(
                    "pop  {number}{name}  call {}  {direction} {}  match: {}{opted_out}  (seq {seq}, pop {})",
                    pop.call_id,
                    pop.state.as_str(),
                    self.match_state(&pop.match_state),
                    pop.pop_id
                )
            }
            ServerMessage::PopUpdate(update) => format!(
                "update  pop {}  match: {}  (seq {seq})",
                update.pop_id,
                self.match_state(&update.match_state)
            ),
            ServerMessage::PopExpired(gone) => format!("expired  pop {}  (seq {seq})", gone.pop_id),
            ServerMessage::PopDismissed(gone) => {
                format!("dismissed  pop {}  (seq {seq})", gone.pop_id)
            }
            ServerMessage::CallState(change) => format!(
                "call  {}  {}  (seq {seq})",
                change.call_id,
                change.state.as_str()
            ),
            ServerMessage::Sms(sms) => {
                let number = sms
                    .number
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), |n| self.number(n.expose()));
                let text = match (&sms.text, self.show_numbers) {
                    (Some(text), true) => format!("  \"{}\"", text.expose()),
                    _ => String::new(),
                };
                let direction = match sms.direction {
                    Direction::Outbound => "sent",
                    Direction::Inbound | Direction::Unknown => "received",
                };
                format!("sms  {number}  {direction}{text}  (seq {seq})")
            }
            ServerMessage::Notice(notice) => {
                format!("notice  {}: {}  (seq {seq})", notice.code, notice.message)
            }
            ServerMessage::Error(refused) => {
                format!("refused  {}: {}", refused.code, refused.message)
            }
            ServerMessage::Hello(_) => "hello".to_owned(),
            ServerMessage::SessionRevoked(revoked) => {
                format!("session revoked ({})", revoked.reason)
            }
        }
    }

    /// A number as shown: masked to its last four digits unless `--show-numbers`.
    fn number(self, e164: &str) -> String {
        match (PhoneNumber::parse(e164), self.show_numbers) {
            (Ok(number), true) => number.formatted(),
            (Ok(number), false) => number.mask(),
            (Err(_), true) => e164.to_owned(),
            (Err(_), false) => mask_digits(e164),
        }
    }

    fn match_state(self, state: &MatchState) -> String {
        match state {
            MatchState::Pending => "pending".to_owned(),
            MatchState::Unavailable => "unavailable".to_owned(),
            MatchState::NoMatch => "no match".to_owned(),
            MatchState::Found { contacts } if self.show_numbers => {
                let names: Vec<&str> = contacts.iter().map(|c| c.name.expose().as_str()).collect();
                format!("found {} ({})", contacts.len(), names.join(", "))
            }
            MatchState::Found { contacts } => format!("found {}", contacts.len()),
            MatchState::Failed { reason } => format!("failed ({reason})"),
        }
    }
}

/// `***-***-` and the last four digits of something that is not a valid number.
fn mask_digits(text: &str) -> String {
    let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***-***-{last}")
}

/// Masks a message's JSON: `number` to its last four digits; names and details left out.
fn mask_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(number)) = map.get_mut("number") {
                *number =
                    PhoneNumber::parse(number).map_or_else(|_| mask_digits(number), |n| n.mask());
            }
            for key in ["caller_name", "contact_name", "name", "detail", "text"] {
                map.remove(key);
            }
            map.values_mut().for_each(mask_json);
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// The password: `RINGSIDE_PASSWORD`, or the first line of standard input when it is not a
/// terminal.
fn read_password() -> Result<Pii<String>, ListenError> {
    if let Ok(password) = std::env::var("RINGSIDE_PASSWORD") {
        return Ok(Pii::new(password));
    }
    if std::io::stdin().is_terminal() {
        return Err(ListenError::Credentials(
            "set RINGSIDE_PASSWORD or pipe the password on standard input (a terminal would echo it)",
        ));
    }
    read_line().ok_or(ListenError::Credentials(
        "no password on standard input (or set RINGSIDE_PASSWORD)",
    ))
}

/// The second-factor code: `RINGSIDE_TOTP`, or a line of standard input after a prompt on
/// standard error.
fn read_totp() -> Result<Pii<String>, ListenError> {
    if let Ok(code) = std::env::var("RINGSIDE_TOTP") {
        return Ok(Pii::new(code.trim().to_owned()));
    }
    eprint!("second-factor code (TOTP or recovery code): ");
    let _ = std::io::stderr().flush();
    read_line().ok_or(ListenError::Credentials(
        "this account needs a second factor: set RINGSIDE_TOTP or type the code",
    ))
}

/// One line of standard input without its line ending; `None` at the end of input or when empty.
fn read_line() -> Option<Pii<String>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let text = line.trim_end_matches(['\r', '\n']).to_owned();
    (!text.is_empty()).then(|| Pii::new(text))
}

#[cfg(test)]
mod tests {
    use ringside_core::wire::{
        CallState, CallStateChange, Contact, Hello, Notice, Pop, PopGone, RecordKind,
    };
    use ringside_core::{CallId, PopId, UserId};

    use super::*;

    fn pop(number: Option<&str>, match_state: MatchState) -> ServerMessage {
        ServerMessage::Pop(Pop {
            seq: 12,
            pop_id: PopId::random(),
            call_id: CallId::random(),
            direction: Direction::Inbound,
            number: number.map(|n| Pii::new(n.to_owned())),
            caller_name: Some(Pii::new("Dana Marker".to_owned())),
            state: CallState::Ringing,
            match_state,
            sms_opted_out: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        })
    }

    const MASKED: Printer = Printer {
        json: false,
        show_numbers: false,
    };

    #[test]
    fn a_pop_line_masks_the_number_to_its_last_four_digits_and_leaves_the_name_out() {
        let line = MASKED.message(&pop(Some("+16172430199"), MatchState::Unavailable));
        assert!(line.starts_with("pop  ***-***-0199  call cal_"), "{line}");
        assert!(
            line.contains("inbound ringing  match: unavailable"),
            "{line}"
        );
        assert!(line.contains("seq 12"), "{line}");
        // Only the number's own digits: a random id may hold "617" anywhere.
        assert!(
            !line.contains("617243") && !line.contains("Marker"),
            "{line}"
        );

        let shown = Printer {
            show_numbers: true,
            ..MASKED
        }
        .message(&pop(Some("+16172430199"), MatchState::Unavailable));
        assert!(
            shown.starts_with("pop  (617) 243-0199 \"Dana Marker\"  call"),
            "{shown}"
        );
        let withheld = MASKED.message(&pop(None, MatchState::Pending));
        assert!(withheld.starts_with("pop  withheld  call"), "{withheld}");
    }

    #[test]
    fn matches_show_counts_and_names_only_when_asked() {
        let found = MatchState::Found {
            contacts: vec![Contact {
                id: "c1".to_owned(),
                kind: RecordKind::Client,
                name: Pii::new("Avery Marker".to_owned()),
                detail: Some(Pii::new("Auto policy".to_owned())),
                open_url: None,
            }],
        };
        let line = MASKED.message(&pop(Some("+16172430199"), found.clone()));
        assert!(line.contains("match: found 1  "), "{line}");
        assert!(!line.contains("Avery"), "{line}");
        let shown = Printer {
            show_numbers: true,
            ..MASKED
        }
        .message(&pop(Some("+16172430199"), found));
        assert!(shown.contains("found 1 (Avery Marker)"), "{shown}");
    }

    #[test]
    fn json_is_the_message_with_the_same_masking() {
        let json = Printer {
            json: true,
            show_numbers: false,
        };
        let found = MatchState::Found {
            contacts: vec![Contact {
                id: "c1".to_owned(),
                kind: RecordKind::Client,
                name: Pii::new("Avery Marker".to_owned()),
                detail: None,
                open_url: None,
            }],
        };
        let line = json.message(&pop(Some("+16172430199"), found));
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["type"], "pop");
        assert_eq!(value["seq"], 12);
        assert_eq!(value["number"], "***-***-0199");
        assert_eq!(value["match"]["status"], "found");
        assert_eq!(value["match"]["contacts"][0]["id"], "c1");
        assert!(!line.contains("Marker"), "{line}");

        let full = Printer {
            json: true,
            show_numbers: true,
        }
        .message(&pop(Some("+16172430199"), MatchState::Unavailable));
        let value: Value = serde_json::from_str(&full).unwrap();
        assert_eq!(value["number"], "+16172430199");
        assert_eq!(value["caller_name"], "Dana Marker");
    }

    #[test]
    fn other_events_have_one_short_line_each() {
        let pop_id = PopId::random();
        let call_id = CallId::random();
        assert_eq!(
            MASKED.message(&ServerMessage::PopExpired(PopGone { seq: 3, pop_id })),
            format!("expired  pop {pop_id}  (seq 3)")
        );
        assert_eq!(
            MASKED.message(&ServerMessage::PopDismissed(PopGone { seq: 4, pop_id })),
            format!("dismissed  pop {pop_id}  (seq 4)")
        );
        assert_eq!(
            MASKED.message(&ServerMessage::CallState(CallStateChange {
                seq: 5,
                call_id,
                state: CallState::Answered
            })),
            format!("call  {call_id}  answered  (seq 5)")
        );
        assert_eq!(
            MASKED.message(&ServerMessage::Notice(Notice {
                seq: 6,
                code: "ams_credentials".to_owned(),
                message: "The AMS refused the credentials".to_owned()
            })),
            "notice  ams_credentials: The AMS refused the credentials  (seq 6)"
        );
        let hello = Hello {
            protocol_version: 1,
            user_id: UserId::random(),
            heartbeat_secs: 30,
            last_seq: 9,
        };
        assert!(
            state_line(&ConnectionState::Connected(hello)).contains("heartbeat 30 s, last seq 9")
        );
    }

    #[test]
    fn an_unparseable_number_is_still_masked() {
        assert_eq!(mask_digits("5550100199"), "***-***-0199");
        assert_eq!(mask_digits("12"), "***-***-12");
        assert_eq!(MASKED.number("not a number 1234"), "***-***-1234");
    }
}
