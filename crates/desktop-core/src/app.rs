//! The app's life with its relay: the relay chosen, onboarding (an invitation) or sign-in, the
//! session kept in the keychain and restored at start-up, the pop stream run in Rust, and the
//! agent's actions sent back on it. The UI calls these methods (through thin Tauri commands) and
//! renders the [`Update`]s they publish; it never talks to the relay itself.
//!
//! Why here and not in the webview: tokens never reach JavaScript, the stream survives a
//! reloaded page, and the rules are tested with `cargo test` against a real relay.
//!
//! The stream task is `stream.rs`'s.

mod stream;

use std::sync::{Arc, Mutex, PoisonError};

use ringside_client::{Client, LoginStep, Session};
use ringside_core::wire::{
    AcceptInvitationRequest, Board as BoardView, ClientMessage, ConnectionStatus, LoginRequest,
    MyCallList, Overview, SecondFactorRequest, SignInStep,
};
use ringside_core::{Clock, Pii, PopId, SystemClock};
use tokio::sync::{mpsc, oneshot};

use crate::Error;
use crate::board::{Behaviour, Board};
use crate::keychain::{Keychain, Saved};
use crate::profile::Profile;

/// What the UI is told, as it happens.
#[derive(Debug, Clone)]
pub enum Update {
    /// The connection's status changed.
    Status(ConnectionStatus),
    /// The pops or missed calls changed.
    Board(BoardView),
    /// A new pop: notify the agent (a sound, a notification).
    NewPop(PopId),
}

/// Where updates go (the Tauri shell emits them as events).
pub type Notify = Arc<dyn Fn(Update) + Send + Sync>;

/// The app. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    profile: Mutex<Profile>,
    /// The relay named on the command line (`--relay`), which overrides the profile's.
    relay_flag: Option<String>,
    device_name: String,
    notify: Notify,
    /// What token expiry is judged by (the system's; a test's fake one).
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    board: Mutex<Board>,
}

#[derive(Default)]
struct State {
    status: Option<ConnectionStatus>,
    keychain_problem: Option<String>,
    challenge: Option<Pii<String>>,
    live: Option<Live>,
}

/// A signed-in session and its stream task.
struct Live {
    session: Arc<Session>,
    outbox: mpsc::Sender<ClientMessage>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// The app on `profile`, signing in to `relay_flag` when given (else the profile's relay),
    /// naming this device `device_name` to the relay, publishing to `notify`.
    pub fn new(
        profile: Profile,
        relay_flag: Option<String>,
        device_name: String,
        notify: Notify,
    ) -> Self {
        Self::with_clock(
            profile,
            relay_flag,
            device_name,
            notify,
            Arc::new(SystemClock),
        )
    }

    /// [`App::new`] judging token expiry by `clock` (a test's, shared with its relay).
    pub fn with_clock(
        profile: Profile,
        relay_flag: Option<String>,
        device_name: String,
        notify: Notify,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let behaviour = Behaviour {
            cap: profile.settings().cap,
            close_on_hang_up: profile.settings().close_on_hang_up,
        };
        Self(Arc::new(Inner {
            profile: Mutex::new(profile),
            relay_flag,
            device_name,
            notify,
            clock,
            state: Mutex::new(State::default()),
            board: Mutex::new(Board::new(0, behaviour)),
        }))
    }

    fn relay(&self) -> Option<String> {
        self.0
            .relay_flag
            .clone()
            .or_else(|| lock(&self.0.profile).settings().relay_url.clone())
    }

    fn client(&self) -> Result<Client, Error> {
        let relay = self
            .relay()
            .ok_or(Error::NotReady("choose a relay first"))?;
        Ok(Client::with_clock(&relay, Arc::clone(&self.0.clock))?)
    }

    pub(super) fn keychain(&self, client: &Client) -> Keychain {
        Keychain::new(client.base_url(), lock(&self.0.profile).id())
    }

    pub(super) fn set_status(&self, status: ConnectionStatus) {
        let changed = {
            let mut state = lock(&self.0.state);
            let changed = state.status.as_ref() != Some(&status);
            state.status = Some(status.clone());
            changed
        };
        if changed {
            (self.0.notify)(Update::Status(status));
        }
    }

    pub(super) fn publish_board(&self) {
        let view = lock(&self.0.board).view();
        (self.0.notify)(Update::Board(view));
    }

    /// At start-up: restores the session kept in the keychain for the relay, if any, and opens
    /// its stream. Without one (or without a keychain) the app is signed out.
    pub async fn start(&self) {
        let Ok(client) = self.client() else {
            self.set_status(ConnectionStatus::SignedOut);
            return;
        };
        match self.keychain(&client).load() {
            Ok(Some(saved)) => {
                let session = client.resume(saved.tokens);
                self.go_live(session).await;
            }
            Ok(None) => self.set_status(ConnectionStatus::SignedOut),
            Err(err) => {
                lock(&self.0.state).keychain_problem = Some(err.to_string());
                self.set_status(ConnectionStatus::SignedOut);
            }
        }
    }

    /// What the first screen needs.
    #[must_use]
    pub fn overview(&self) -> Overview {
        let relay = self.relay();
        let state = lock(&self.0.state);
        Overview {
            insecure_relay: relay.as_deref().is_some_and(|r| r.starts_with("http://")),
            relay,
            keychain_problem: state.keychain_problem.clone(),
            status: state.status.clone().unwrap_or(ConnectionStatus::SignedOut),
        }
    }

    /// The pops and missed calls now.
    #[must_use]
    pub fn board(&self) -> BoardView {
        lock(&self.0.board).view()
    }

    /// Chooses the relay this profile signs in to (https; plain http only to this machine).
    ///
    /// # Errors
    /// [`Error::Relay`] (`invalid_input`) for an address that cannot be used.
    pub fn choose_relay(&self, url: &str) -> Result<Overview, Error> {
        let client = Client::new(url.trim())?;
        lock(&self.0.profile).update(|s| s.relay_url = Some(client.base_url().to_owned()))?;
        Ok(self.overview())
    }

    /// Joins the org with an invitation code, and signs in.
    ///
    /// # Errors
    /// The relay's refusal (`invitation_invalid`, `weak_password`, …) or an unreachable relay.
    pub async fn accept_invitation(
        &self,
        code: &str,
        display_name: &str,
        password: &str,
    ) -> Result<(), Error> {
        let client = self.client()?;
        let request = AcceptInvitationRequest {
            code: Pii::new(code.trim().to_owned()),
            display_name: Pii::new(display_name.trim().to_owned()),
            password: Pii::new(password.to_owned()),
            device_name: Pii::new(self.0.device_name.clone()),
        };
        let session = client.accept_invitation(&request).await?;
        self.signed_in(session).await;
        Ok(())
    }

    /// Signs in with an email and password (and a second-factor code when the account has one
    /// and the relay asked: [`SignInStep::SecondFactor`], then [`App::second_factor`]).
    ///
    /// # Errors
    /// The relay's refusal (`invalid_credentials`, `locked`, …) or an unreachable relay.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignInStep, Error> {
        let client = self.client()?;
        let saved_device = self.keychain(&client).load().ok().flatten();
        let request = LoginRequest {
            email: Pii::new(email.trim().to_owned()),
            password: Pii::new(password.to_owned()),
            second_factor: None,
            device_name: Pii::new(self.0.device_name.clone()),
            device_token: saved_device.and_then(|s| s.tokens.device_token),
        };
        match client.login(&request).await? {
            LoginStep::SignedIn(session) => {
                self.signed_in(*session).await;
                Ok(SignInStep::SignedIn)
            }
            LoginStep::SecondFactor { challenge, .. } => {
                lock(&self.0.state).challenge = Some(challenge);
                Ok(SignInStep::SecondFactor)
            }
        }
    }

    /// Completes a sign-in that asked for a second factor.
    ///
    /// # Errors
    /// [`Error::NotReady`] without a pending sign-in; the relay's refusal.
    pub async fn second_factor(&self, code: &str) -> Result<(), Error> {
        let client = self.client()?;
        let challenge = lock(&self.0.state)
            .challenge
            .take()
            .ok_or(Error::NotReady("sign in with your password first"))?;
        let request = SecondFactorRequest {
            challenge,
            code: Pii::new(code.trim().to_owned()),
        };
        let session = client.second_factor(&request).await?;
        self.signed_in(session).await;
        Ok(())
    }

    async fn signed_in(&self, session: Session) {
        let keychain = self.keychain(session.client());
        let mut tokens = session.tokens().await;
        if tokens.device_token.is_none() {
            // The relay answers a device token only to a device's first sign-in: keep that one.
            tokens.device_token = keychain
                .load()
                .ok()
                .flatten()
                .and_then(|s| s.tokens.device_token);
        }
        let kept = keychain.save(&Saved { tokens });
        lock(&self.0.state).keychain_problem = kept.err().map(|e| e.to_string());
        self.go_live(session).await;
    }

    async fn go_live(&self, session: Session) {
        self.stop_stream();
        let session = Arc::new(session);
        let tokens = session.tokens().await;
        let relay = session.client().base_url().to_owned();
        let user = tokens.user_id.to_string();
        let after = lock(&self.0.profile).handled(&relay, &user);
        {
            let behaviour = {
                let profile = lock(&self.0.profile);
                Behaviour {
                    cap: profile.settings().cap,
                    close_on_hang_up: profile.settings().close_on_hang_up,
                }
            };
            *lock(&self.0.board) = Board::new(after, behaviour);
        }
        let (outbox, outgoing) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel();
        lock(&self.0.state).live = Some(Live {
            session: Arc::clone(&session),
            outbox,
            stop: Some(stop),
        });
        self.set_status(ConnectionStatus::Connecting);
        self.publish_board();
        let app = self.clone();
        tokio::spawn(async move {
            app.run_stream(session, relay, user, after, outgoing, stopped)
                .await;
        });
    }

    /// Stops the stream (the app is quitting). The session stays in the keychain for the next
    /// start.
    pub fn shutdown(&self) {
        self.stop_stream();
    }

    fn stop_stream(&self) {
        let live = lock(&self.0.state).live.take();
        if let Some(stop) = live.and_then(|mut live| live.stop.take()) {
            let _ = stop.send(());
        }
    }

    /// Signs out: the relay is told (best effort), the tokens leave the keychain, the stream
    /// stops and the pops leave the screen.
    ///
    /// # Errors
    /// [`Error::Keychain`] when the tokens could not be deleted.
    pub async fn sign_out(&self) -> Result<(), Error> {
        let session = lock(&self.0.state)
            .live
            .as_ref()
            .map(|l| Arc::clone(&l.session));
        self.stop_stream();
        if let Some(session) = &session
            && let Err(err) = session.logout().await
        {
            tracing::info!(error = %err, "the relay was not told of the sign-out");
        }
        lock(&self.0.board).clear();
        self.publish_board();
        self.set_status(ConnectionStatus::SignedOut);
        match self.client() {
            Ok(client) => self.keychain(&client).forget().map_err(Error::from),
            Err(_) => Ok(()),
        }
    }

    async fn send(&self, message: Option<ClientMessage>) -> Result<(), Error> {
        let Some(message) = message else {
            return Ok(());
        };
        let outbox = lock(&self.0.state)
            .live
            .as_ref()
            .map(|l| l.outbox.clone())
            .ok_or(Error::NotReady("not signed in"))?;
        outbox
            .send(message)
            .await
            .map_err(|_| Error::NotReady("the connection has stopped"))
    }

    /// The agent closed a pop (their other devices clear it too).
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in.
    pub async fn dismiss(&self, pop: PopId) -> Result<BoardView, Error> {
        let message = lock(&self.0.board).dismiss(pop);
        self.send(message).await?;
        self.publish_board();
        Ok(self.board())
    }

    /// The agent closed every pop.
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in.
    pub async fn dismiss_all(&self) -> Result<BoardView, Error> {
        let messages = lock(&self.0.board).dismiss_all();
        for message in messages {
            self.send(Some(message)).await?;
        }
        self.publish_board();
        Ok(self.board())
    }

    /// The agent picked one of a pop's matches.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a contact that is not one of the pop's matches.
    pub async fn pick(&self, pop: PopId, contact: &str) -> Result<BoardView, Error> {
        let message = lock(&self.0.board).pick(pop, contact);
        if message.is_none() {
            return Err(Error::InvalidInput(
                "that record is not one of this call's matches".to_owned(),
            ));
        }
        self.send(message).await?;
        self.publish_board();
        Ok(self.board())
    }

    /// The agent's note on a pop's call (the UI sends it debounced, and when the pop closes).
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in.
    pub async fn note(&self, pop: PopId, text: &str) -> Result<(), Error> {
        let message = lock(&self.0.board).note(pop, text);
        self.send(message).await
    }

    /// The agent's own recent calls, with their notes' state (`GET /v1/me/calls`).
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in; the relay's refusal.
    pub async fn history(&self) -> Result<MyCallList, Error> {
        let session = lock(&self.0.state)
            .live
            .as_ref()
            .map(|l| Arc::clone(&l.session))
            .ok_or(Error::NotReady("not signed in"))?;
        let mut list = session.my_calls().await?;
        for call in &mut list.calls {
            // Formatted for reading; a masked number stays as it is.
            if let Some(number) = &call.number
                && let Ok(parsed) = ringside_core::PhoneNumber::parse(number.expose())
            {
                call.number = Some(Pii::new(parsed.formatted()));
            }
        }
        Ok(list)
    }

    /// Marks every missed call seen.
    pub fn mark_missed_seen(&self) -> BoardView {
        lock(&self.0.board).mark_missed_seen();
        self.publish_board();
        self.board()
    }
}
