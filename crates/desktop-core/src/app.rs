//! The app's life with its relay: the relay chosen, onboarding (an invitation) or sign-in, the
//! session kept in the keychain and restored at start-up, the pop stream run in Rust, and the
//! agent's actions sent back on it. The UI calls these methods (through thin Tauri commands) and
//! renders the [`Update`]s they publish; it never talks to the relay itself.
//!
//! Why here and not in the webview: tokens never reach JavaScript, the stream survives a
//! reloaded page, and the rules are tested with `cargo test` against a real relay.
//!
//! The stream task is `stream.rs`'s.

mod enrolment;
mod stream;

use std::sync::{Arc, Mutex, PoisonError};

use ringside_client::{Client, LoginStep, Session};
use ringside_core::wire::{
    AcceptInvitationRequest, Board as BoardView, ClientMessage, ConnectionStatus, Leaderboard,
    LoginRequest, MyCallList, MyNoteList, Overview, PopSettings, SecondFactorRequest, SignInStep,
};
use ringside_core::{Clock, Pii, PopId, SystemClock};
use tokio::sync::{mpsc, oneshot};

use crate::Error;
use crate::board::Board;
use crate::cache::PopCache;
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
    /// The sealed pop cache, once opened (none without a keychain).
    cache: Mutex<Option<PopCache>>,
}

#[derive(Default)]
struct State {
    status: Option<ConnectionStatus>,
    keychain_problem: Option<String>,
    challenge: Option<Pii<String>>,
    live: Option<Live>,
    /// A signed-in session waiting for its second factor before it may receive pops.
    waiting: Option<Arc<Session>>,
    /// The user must set up a second factor.
    second_factor_due: bool,
}

/// A signed-in session and its stream task.
struct Live {
    session: Arc<Session>,
    /// `"{relay} {user}"`: whose pops the cache holds.
    owner: String,
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
        let settings = profile.settings().pops;
        Self(Arc::new(Inner {
            profile: Mutex::new(profile),
            relay_flag,
            device_name,
            notify,
            clock,
            state: Mutex::new(State::default()),
            board: Mutex::new(Board::new(0, settings)),
            cache: Mutex::new(None),
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

    /// Tells the UI the board changed, then keeps its pops in the cache.
    pub(super) fn publish_board(&self) {
        let (view, pops) = {
            let board = lock(&self.0.board);
            (board.view(), board.live().to_vec())
        };
        (self.0.notify)(Update::Board(view));
        let owner = lock(&self.0.state).live.as_ref().map(|l| l.owner.clone());
        if let (Some(owner), Some(cache)) = (owner, lock(&self.0.cache).as_mut())
            && let Err(err) = cache.keep(&owner, &pops)
        {
            tracing::warn!(error = %err, "the pops could not be cached");
        }
    }

    /// Opens the pop cache if it is not open (deleting what expired while the app was closed).
    /// Without a keychain nothing is cached: pops live in memory only.
    fn open_cache(&self) {
        let mut cache = lock(&self.0.cache);
        if cache.is_some() {
            return;
        }
        let (dir, id) = {
            let profile = lock(&self.0.profile);
            (profile.dir().to_owned(), profile.id().to_owned())
        };
        let opened = Keychain::cache_key(&id)
            .map_err(|e| e.to_string())
            .and_then(|key| {
                PopCache::open(&dir, key, self.0.clock.now()).map_err(|e| e.to_string())
            });
        match opened {
            Ok(opened) => *cache = Some(opened),
            Err(err) => tracing::warn!(error = %err, "pops are not cached"),
        }
    }

    /// Empties the board and the cache (the session is over).
    pub(super) fn forget_pops(&self) {
        lock(&self.0.board).clear();
        if let Some(cache) = lock(&self.0.cache).as_ref()
            && let Err(err) = cache.clear()
        {
            tracing::warn!(error = %err, "the pop cache could not be emptied");
        }
        self.publish_board();
    }

    /// Removes the pops whose time is up, from the screen and the cache (every second).
    pub(super) fn sweep(&self) {
        let now = self.0.clock.now();
        let change = lock(&self.0.board).expire(now);
        if change != crate::board::Change::Nothing {
            self.publish_board();
        }
        if let Some(cache) = lock(&self.0.cache).as_ref()
            && let Err(err) = cache.purge(now)
        {
            tracing::warn!(error = %err, "expired pops could not be deleted from the cache");
        }
    }

    /// At start-up: restores the session kept in the keychain for the relay, if any, and opens
    /// its stream. Without one (or without a keychain) the app is signed out.
    pub async fn start(&self) {
        self.open_cache();
        let Ok(client) = self.client() else {
            self.set_status(ConnectionStatus::SignedOut);
            return;
        };
        match self.keychain(&client).load() {
            Ok(Some(saved)) => {
                self.enter(client.resume(saved.tokens)).await;
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
            second_factor_due: state.second_factor_due,
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
        self.enter(session).await;
    }

    async fn go_live(&self, session: Arc<Session>) {
        self.stop_stream();
        let tokens = session.tokens().await;
        let relay = session.client().base_url().to_owned();
        let user = tokens.user_id.to_string();
        let after = lock(&self.0.profile).handled(&relay, &user);
        let owner = format!("{relay} {user}");
        self.open_cache();
        let kept = lock(&self.0.cache)
            .as_mut()
            .map(|cache| cache.load(&owner, self.0.clock.now()));
        {
            let settings = lock(&self.0.profile).settings().pops;
            let mut board = Board::new(after, settings);
            board.set_paused(lock(&self.0.board).paused());
            match kept {
                Some(Ok(pops)) => board.restore(pops),
                Some(Err(err)) => tracing::warn!(error = %err, "the cached pops could not be read"),
                None => {}
            }
            *lock(&self.0.board) = board;
        }
        let (outbox, outgoing) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel();
        lock(&self.0.state).live = Some(Live {
            session: Arc::clone(&session),
            owner,
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
        let session = self.current_session().ok();
        self.stop_stream();
        {
            let mut state = lock(&self.0.state);
            state.waiting = None;
            state.second_factor_due = false;
        }
        if let Some(session) = &session
            && let Err(err) = session.logout().await
        {
            tracing::info!(error = %err, "the relay was not told of the sign-out");
        }
        self.forget_pops();
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
        let session = self.current_session()?;
        let mut list = session.my_calls().await?;
        for call in &mut list.calls {
            call.number = call.number.take().map(readable);
        }
        Ok(list)
    }

    /// The agent's own notes the relay still holds: not in the AMS yet (`GET /v1/me/notes`).
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in; the relay's refusal.
    pub async fn notes(&self) -> Result<MyNoteList, Error> {
        let mut list = self.current_session()?.my_notes().await?;
        for note in &mut list.notes {
            note.number = note.number.take().map(readable);
        }
        Ok(list)
    }

    /// What the agent chose about pops.
    #[must_use]
    pub fn settings(&self) -> PopSettings {
        lock(&self.0.profile).settings().pops
    }

    /// Keeps the agent's choices about pops, and applies them to the pops on screen now.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a cap outside 1–10 (nothing changes); the profile folder.
    pub fn set_settings(&self, settings: PopSettings) -> Result<PopSettings, Error> {
        if !(1..=PopSettings::MAX_CAP).contains(&settings.cap) {
            return Err(Error::InvalidInput(format!(
                "show between 1 and {} pops at once",
                PopSettings::MAX_CAP
            )));
        }
        lock(&self.0.profile).update(|s| s.pops = settings)?;
        lock(&self.0.board).set_settings(settings);
        self.publish_board();
        Ok(settings)
    }

    /// The team's leaderboard over the last `days` (`GET /v1/leaderboard`).
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in; the relay's refusal (a range outside 1–90).
    pub async fn leaderboard(&self, days: u32) -> Result<Leaderboard, Error> {
        Ok(self.current_session()?.leaderboard(days).await?)
    }

    /// Where the pop window goes on `monitor`, if the agent has put it somewhere there.
    #[must_use]
    pub fn pop_window_at(&self, monitor: &str) -> Option<(i32, i32)> {
        lock(&self.0.profile)
            .settings()
            .pop_window_at
            .get(monitor)
            .copied()
    }

    /// Remembers where the agent put the pop window on `monitor`.
    ///
    /// # Errors
    /// The profile folder.
    pub fn remember_pop_window_at(&self, monitor: &str, at: (i32, i32)) -> Result<(), Error> {
        let mut profile = lock(&self.0.profile);
        if profile.settings().pop_window_at.get(monitor) == Some(&at) {
            return Ok(());
        }
        Ok(profile.update(|s| {
            s.pop_window_at.insert(monitor.to_owned(), at);
        })?)
    }

    /// Pauses pops (none shown or announced; they wait, and still expire) or resumes them —
    /// from the tray or the window.
    pub fn set_paused(&self, paused: bool) -> BoardView {
        lock(&self.0.board).set_paused(paused);
        self.publish_board();
        self.board()
    }

    /// Marks every missed call seen.
    pub fn mark_missed_seen(&self) -> BoardView {
        lock(&self.0.board).mark_missed_seen();
        self.publish_board();
        self.board()
    }
}

/// A number formatted for reading; a masked one stays as it is.
fn readable(number: Pii<String>) -> Pii<String> {
    match ringside_core::PhoneNumber::parse(number.expose()) {
        Ok(parsed) => Pii::new(parsed.formatted()),
        Err(_) => number,
    }
}
