//! `ringside-relay simulate call`: webhooks signed exactly as an integration's provider would send
//! them, POSTed to a relay — to try an installation end to end without a provider account, and for
//! the demo and the benchmarks, which call [`place_call`] directly against an in-process relay.
//!
//! The signing is `ringside_providers::simulate` (the mirror of the verifiers). This module finds
//! the integration and opens its sealed secret the way the webhook route does (so it runs on the
//! relay host, with the relay's configuration and master key), works out the URL, and sends one
//! webhook per state with one call id. Nothing here prints or logs a phone number or a name.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ringside_core::{Clock, IntegrationId, PhoneNumber, SystemClock};
use ringside_providers::simulate::{self, SignedRequest, SimulatedCall};
use ringside_providers::{
    CallState, Direction, ProviderError, ProviderKind, ProviderSecret, ProviderSettings,
};
use ringside_store::Store;

use crate::Config;

/// Why a simulated call could not be placed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// Opening the configuration, the store or the master key failed.
    #[error(transparent)]
    Relay(#[from] crate::Error),
    /// No active integration has this id (never created, or revoked).
    #[error("no active integration {0}")]
    UnknownIntegration(IntegrationId),
    /// The integration's stored provider or settings are not readable.
    #[error("integration {0} is not usable: {1}")]
    BadIntegration(IntegrationId, &'static str),
    /// The provider cannot sign this call (a state it cannot express, an unusable secret).
    #[error("{provider} cannot sign this call: {source}")]
    Sign {
        /// The provider.
        provider: ProviderKind,
        /// Why.
        source: ProviderError,
    },
    /// The relay could not be reached, or did not answer.
    #[error("sending the webhook failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The relay answered, but refused some webhooks.
    #[error("{refused} of {sent} webhooks were not accepted (see the statuses above)")]
    Refused {
        /// How many answers were not 2xx.
        refused: usize,
        /// How many were sent.
        sent: usize,
    },
}

/// An integration ready to sign with: its provider, secret and settings.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The integration.
    pub integration: IntegrationId,
    /// Its provider.
    pub provider: ProviderKind,
    /// Its secret (never printed).
    pub secret: ProviderSecret,
    /// Its provider settings.
    pub settings: ProviderSettings,
}

impl Signer {
    /// Reads an active integration from the store and opens its sealed secret with the org's
    /// data key, as the webhook route does.
    ///
    /// # Errors
    /// [`SimulateError::UnknownIntegration`], or the store's and the vault's errors.
    pub fn load(
        store: &Store,
        masters: &ringside_vault::MasterKeyring,
        id: IntegrationId,
    ) -> Result<Self, SimulateError> {
        let store_err = |e: ringside_store::Error| SimulateError::Relay(e.into());
        let (integration, sealed) = store
            .integrations()
            .integration_for_webhook(id)
            .map_err(store_err)?
            .ok_or(SimulateError::UnknownIntegration(id))?;
        let provider = ProviderKind::from_str(&integration.provider)
            .map_err(|_| SimulateError::BadIntegration(id, "unknown provider"))?;
        let settings: ProviderSettings = serde_json::from_str(&integration.settings)
            .map_err(|_| SimulateError::BadIntegration(id, "unreadable provider settings"))?;
        let keys = store
            .orgs()
            .org_keyring(integration.org, masters)
            .map_err(store_err)?;
        let opened = store
            .integrations()
            .open_integration_secret(integration, &sealed, &keys)
            .map_err(store_err)?;
        let secret = ProviderSecret::new(opened.secret.as_str())
            .map_err(|_| SimulateError::BadIntegration(id, "unusable secret"))?;
        Ok(Self {
            integration: id,
            provider,
            secret,
            settings,
        })
    }

    /// Opens the relay's store and master key per `config`, then [`Signer::load`].
    ///
    /// # Errors
    /// As [`Signer::load`], plus opening the store or the master key.
    pub fn from_config(config: &Config, id: IntegrationId) -> Result<Self, SimulateError> {
        let (store, masters) = crate::open::open_store(config, Arc::new(SystemClock))?;
        Self::load(&store, &masters, id)
    }
}

/// Where to send an integration's webhooks, and the URL to sign them for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL the requests are POSTed to.
    pub post_url: String,
    /// The URL they are signed for: the one the relay rebuilds when it checks a Twilio signature
    /// (its `public_url` when configured, else the URL as called).
    pub signed_url: String,
}

impl Target {
    /// Both URLs are `{base}/v1/hooks/{id}` (an in-process relay, or no proxy in between).
    pub fn direct(base: &str, id: IntegrationId) -> Self {
        let url = format!(
            "{}{}",
            base.trim_end_matches('/'),
            crate::integrations::webhook_path(id)
        );
        Self {
            post_url: url.clone(),
            signed_url: url,
        }
    }

    /// The relay `config` describes: POSTed to `relay` when given, else to `public_url` when
    /// configured, else to `http(s)://{listen}` (a wildcard address becomes loopback); signed for
    /// `public_url` when configured, since that is what the relay checks Twilio against.
    pub fn for_config(config: &Config, relay: Option<&str>, id: IntegrationId) -> Self {
        let path = crate::integrations::webhook_path(id);
        let local = || {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(if addr.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            format!("{scheme}://{addr}")
        };
        let post_base = relay
            .map(|r| r.trim_end_matches('/').to_owned())
            .or_else(|| config.public_url.clone())
            .unwrap_or_else(local);
        let post_url = format!("{post_base}{path}");
        let signed_url = config
            .public_url
            .as_ref()
            .map_or_else(|| post_url.clone(), |public| format!("{public}{path}"));
        Self {
            post_url,
            signed_url,
        }
    }
}

/// One call to place: the same call id through each state in order.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// The call's id; a fresh one in the provider's form when `None` (naming one sends further
    /// events of a call already placed).
    pub call_id: Option<String>,
    /// The calling number.
    pub from: PhoneNumber,
    /// The called number.
    pub to: Option<PhoneNumber>,
    /// Inbound (a client calling the agency) or outbound.
    pub direction: Direction,
    /// The states to send, in order.
    pub states: Vec<CallState>,
    /// The client's name, where the provider carries one (personal data: never printed).
    pub contact_name: Option<String>,
    /// The provider's id of the agent (Dialpad, RingCentral, Standard).
    pub provider_user_id: Option<String>,
    /// The agent's extension (Dialpad, RingCentral, Standard).
    pub extension: Option<String>,
    /// The pause between two webhooks.
    pub gap: Duration,
}

impl CallPlan {
    /// An inbound call from `from` to `to` that rings, is answered and ends, 500 ms apart.
    pub fn inbound(from: PhoneNumber, to: Option<PhoneNumber>) -> Self {
        Self {
            call_id: None,
            from,
            to,
            direction: Direction::Inbound,
            states: vec![CallState::Ringing, CallState::Answered, CallState::Ended],
            contact_name: None,
            provider_user_id: None,
            extension: None,
            gap: Duration::from_millis(500),
        }
    }
}

/// One webhook sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The state it reported.
    pub state: CallState,
    /// The relay's HTTP status.
    pub status: u16,
    /// The event identity it carried (what the relay deduplicates on).
    pub event_id: String,
    /// The request, byte for byte: [`send`] it again and that is a provider's retry.
    pub request: SignedRequest,
}

impl Delivery {
    /// Whether the relay accepted it (2xx: accepted, duplicate or ignored).
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The call id and the signed requests of a plan, one per state (nothing is sent).
///
/// # Errors
/// [`SimulateError::Sign`] when the provider cannot express one of the states; nothing is signed
/// then.
pub fn sign_plan(
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    call_id: &str,
    now: time::OffsetDateTime,
) -> Result<Vec<SignedRequest>, SimulateError> {
    check_states(signer.provider, &plan.states)?;
    plan.states
        .iter()
        .map(|&state| sign_one(signer, target, plan, call_id, state, now))
        .collect()
}

fn check_states(provider: ProviderKind, states: &[CallState]) -> Result<(), SimulateError> {
    if states
        .iter()
        .all(|s| simulate::supported_states(provider).contains(s))
    {
        Ok(())
    } else {
        Err(SimulateError::Sign {
            provider,
            source: ProviderError::Unprocessable {
                what: "this provider's call events cannot express that state",
            },
        })
    }
}

fn sign_one(
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    call_id: &str,
    state: CallState,
    now: time::OffsetDateTime,
) -> Result<SignedRequest, SimulateError> {
    let call = simulated(plan, call_id, state);
    simulate::sign_call(
        signer.provider,
        &signer.secret,
        &signer.settings,
        &target.signed_url,
        &call,
        now,
    )
    .map_err(|source| SimulateError::Sign {
        provider: signer.provider,
        source,
    })
}

/// Signs the transcript of call `call_id` (placed by `plan`) as the provider sends one, and
/// POSTs it: the delivery. A provider that sends no transcript by webhook is refused before
/// anything is sent.
///
/// # Errors
/// [`SimulateError::Sign`] for a provider without transcript webhooks or an empty transcript;
/// [`SimulateError::Http`] when the relay cannot be reached.
pub async fn send_transcript(
    client: &reqwest::Client,
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    call_id: &str,
    utterances: &[ringside_core::transcript::Utterance],
    clock: &dyn Clock,
) -> Result<(u16, SignedRequest), SimulateError> {
    send_after_call(client, signer, target, plan, call_id, clock, |call, now| {
        simulate::sign_transcript(
            signer.provider,
            &signer.secret,
            &signer.settings,
            &target.signed_url,
            call,
            utterances,
            now,
        )
    })
    .await
}

/// Signs Dialpad's announcement that call `call_id`'s AI transcript is ready in its API
/// (`call_transcription`), and POSTs it: the delivery.
///
/// # Errors
/// [`SimulateError::Sign`] for a provider other than Dialpad; [`SimulateError::Http`] when the
/// relay cannot be reached.
pub async fn send_transcript_ready(
    client: &reqwest::Client,
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    call_id: &str,
    clock: &dyn Clock,
) -> Result<(u16, SignedRequest), SimulateError> {
    send_after_call(client, signer, target, plan, call_id, clock, |call, now| {
        simulate::sign_transcript_ready(
            signer.provider,
            &signer.secret,
            &target.signed_url,
            call,
            now,
        )
    })
    .await
}

/// Signs one after-the-call event of call `call_id` of `plan` with `sign`, and POSTs it.
async fn send_after_call(
    client: &reqwest::Client,
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    call_id: &str,
    clock: &dyn Clock,
    sign: impl FnOnce(&SimulatedCall, time::OffsetDateTime) -> Result<SignedRequest, ProviderError>,
) -> Result<(u16, SignedRequest), SimulateError> {
    let call = simulated(
        plan,
        call_id,
        plan.states.last().copied().unwrap_or(CallState::Ended),
    );
    let request = sign(&call, clock.now()).map_err(|source| SimulateError::Sign {
        provider: signer.provider,
        source,
    })?;
    let status = send(client, &target.post_url, &request).await?;
    Ok((status, request))
}

/// The provider-side view of call `call_id` of `plan` in `state`.
fn simulated(plan: &CallPlan, call_id: &str, state: CallState) -> SimulatedCall {
    SimulatedCall {
        call_id: call_id.to_owned(),
        parent_call_id: None,
        direction: plan.direction,
        state,
        from: plan.from.clone(),
        to: plan.to.clone(),
        contact_name: plan.contact_name.clone(),
        provider_user_id: plan.provider_user_id.clone(),
        extension: plan.extension.clone(),
        event_id: None,
    }
}

/// POSTs one signed request to `url`; the relay's status.
///
/// # Errors
/// [`SimulateError::Http`] when the relay cannot be reached or does not answer.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    request: &SignedRequest,
) -> Result<u16, SimulateError> {
    let mut builder = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, request.content_type)
        .body(request.body.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let response = builder
        .send()
        .await
        .map_err(|e| SimulateError::Http(e.without_url()))?;
    Ok(response.status().as_u16())
}

/// Places one call: `plan.call_id` or a fresh id in the provider's form, each state of `plan` signed at
/// `clock`'s time and POSTed in order, `plan.gap` apart. `on_delivery` sees each answer as it
/// comes. Returns the call id and the deliveries; a refused webhook does not stop the call (the
/// caller decides what a non-2xx means).
///
/// # Errors
/// [`SimulateError::Sign`] before anything is sent when the provider cannot express a state;
/// [`SimulateError::Http`] when the relay cannot be reached.
pub async fn place_call(
    client: &reqwest::Client,
    signer: &Signer,
    target: &Target,
    plan: &CallPlan,
    clock: &dyn Clock,
    mut on_delivery: impl FnMut(&Delivery),
) -> Result<(String, Vec<Delivery>), SimulateError> {
    check_states(signer.provider, &plan.states)?;
    let call_id = plan
        .call_id
        .clone()
        .unwrap_or_else(|| simulate::new_call_id(signer.provider));
    let mut deliveries = Vec::with_capacity(plan.states.len());
    for (at, &state) in plan.states.iter().enumerate() {
        if at > 0 && !plan.gap.is_zero() {
            tokio::time::sleep(plan.gap).await;
        }
        let request = sign_one(signer, target, plan, &call_id, state, clock.now())?;
        let status = send(client, &target.post_url, &request).await?;
        let delivery = Delivery {
            state,
            status,
            event_id: request.event_id.clone(),
            request,
        };
        on_delivery(&delivery);
        deliveries.push(delivery);
    }
    Ok((call_id, deliveries))
}

/// A state name as on the command line (`ringing`, `answered`, `ended`, `missed`, `voicemail`,
/// `transferred`).
///
/// # Errors
/// A message listing the names.
pub fn parse_state(text: &str) -> Result<CallState, String> {
    CallState::ALL
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            "expected ringing, answered, ended, missed, voicemail or transferred".to_owned()
        })
}

fn parse_direction(text: &str) -> Result<Direction, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "inbound" => Ok(Direction::Inbound),
        "outbound" => Ok(Direction::Outbound),
        _ => Err("expected inbound or outbound".to_owned()),
    }
}

fn parse_phone(text: &str) -> Result<PhoneNumber, String> {
    PhoneNumber::parse(text).map_err(|e| e.to_string())
}

/// `simulate …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SimulateCommand {
    /// Send one call's webhooks, signed exactly as the integration's provider would, to a relay:
    /// one line per webhook with its state and the relay's HTTP status. Runs on the relay host
    /// (it opens the integration's sealed secret with the relay's master key).
    Call(CallArgs),
}

/// `simulate call` arguments.
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The integration's id (int_…).
    #[arg(long, value_name = "ID")]
    pub integration: IntegrationId,
    /// The calling number (any format; E.164 preferred).
    #[arg(long, value_name = "NUMBER", value_parser = parse_phone)]
    pub from: PhoneNumber,
    /// The called number (the agency's line on an inbound call).
    #[arg(long, value_name = "NUMBER", value_parser = parse_phone)]
    pub to: Option<PhoneNumber>,
    /// The states to send, in order (ringing, answered, ended, missed, voicemail, transferred;
    /// Twilio and Vonage have no voicemail or transferred).
    #[arg(long, value_name = "STATES", value_delimiter = ',', value_parser = parse_state,
        default_value = "ringing,answered,ended")]
    pub states: Vec<CallState>,
    /// inbound or outbound.
    #[arg(long, value_name = "DIRECTION", value_parser = parse_direction, default_value = "inbound")]
    pub direction: Direction,
    /// The relay's base URL [default: public_url from the configuration, else http://{listen}].
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// The provider's id of the agent the call is for (Dialpad, RingCentral, Standard).
    #[arg(long, value_name = "PROVIDER_USER_ID")]
    pub user: Option<String>,
    /// The agent's extension (Dialpad, RingCentral, Standard).
    #[arg(long, value_name = "EXT")]
    pub extension: Option<String>,
    /// Milliseconds between two webhooks.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub gap_ms: u64,
    /// After the states, send this file as the call's transcript, as the provider would (Standard
    /// Webhooks `call.transcript`, Dialpad `transcription`): one line per utterance, `Caller: …`
    /// or `Agent: …` (or unlabelled).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<std::path::PathBuf>,
}

/// Runs a `simulate` subcommand: the CLI's entry point.
///
/// # Errors
/// See [`SimulateError`]; a webhook the relay did not accept is [`SimulateError::Refused`].
#[allow(clippy::print_stdout, clippy::print_stderr)] // the CLI's job is to print
pub fn run_command(config: &Config, command: SimulateCommand) -> Result<(), SimulateError> {
    let SimulateCommand::Call(args) = command;
    let signer = Signer::from_config(config, args.integration)?;
    let target = Target::for_config(config, args.relay.as_deref(), args.integration);
    let carries_agent = matches!(
        signer.provider,
        ProviderKind::Dialpad | ProviderKind::Ringcentral | ProviderKind::Standard
    );
    if !carries_agent && (args.user.is_some() || args.extension.is_some()) {
        eprintln!(
            "note: {} webhooks carry no user id or extension; --user/--extension are not sent",
            signer.provider
        );
    }
    let plan = CallPlan {
        call_id: None,
        from: args.from,
        to: args.to,
        direction: args.direction,
        states: args.states,
        contact_name: None,
        provider_user_id: args.user,
        extension: args.extension,
        gap: Duration::from_millis(args.gap_ms),
    };
    check_states(signer.provider, &plan.states)?;
    let transcript = match &args.transcript {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                SimulateError::Relay(crate::Error::Usage(format!(
                    "transcript file {}: {e}",
                    path.display()
                )))
            })?;
            if !simulate::sends_transcripts(signer.provider) {
                return Err(SimulateError::Relay(crate::Error::Usage(format!(
                    "{} sends no transcript by webhook: --transcript needs a standard or dialpad \
                     integration",
                    signer.provider
                ))));
            }
            Some(simulate::parse_transcript_file(&text))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SimulateError::Relay(crate::Error::io("starting the async runtime")(e)))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(SimulateError::Http)?;
    println!(
        "integration {} ({}): POST {}",
        signer.integration, signer.provider, target.post_url
    );
    let (call_id, deliveries) = runtime.block_on(place_call(
        &client,
        &signer,
        &target,
        &plan,
        &SystemClock,
        |d| println!("{:<11} {}", d.state.as_str(), d.status),
    ))?;
    let mut refused = deliveries.iter().filter(|d| !d.accepted()).count();
    let mut sent = deliveries.len();
    if let Some(utterances) = transcript {
        let (status, _) = runtime.block_on(send_transcript(
            &client,
            &signer,
            &target,
            &plan,
            &call_id,
            &utterances,
            &SystemClock,
        ))?;
        println!("{:<11} {status}", "transcript");
        sent += 1;
        refused += usize::from(!(200..300).contains(&status));
    }
    tracing::info!(integration = %signer.integration, %call_id, sent, refused, "simulated call placed");
    if refused > 0 {
        return Err(SimulateError::Refused { refused, sent });
    }
    println!("call {call_id}: {sent} webhooks accepted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration `toml` describes. Loaded inside a `figment::Jail`: the configuration
    /// tests set `RINGSIDE_*` variables process-wide, and a jail waits for theirs to end.
    #[allow(clippy::result_large_err)] // figment::Jail's closure must return figment::Error
    fn config(toml: &str) -> Config {
        let mut loaded = None;
        figment::Jail::expect_with(|jail| {
            let dir = jail.directory().to_owned();
            jail.create_file(
                "relay.toml",
                &format!("data_dir = \"{}\"\n{toml}", dir.display()),
            )?;
            loaded = Some(Config::load(&crate::config::Sources {
                file: Some(dir.join("relay.toml")),
                ..Default::default()
            }));
            Ok(())
        });
        loaded.unwrap().unwrap()
    }

    fn id() -> IntegrationId {
        IntegrationId::from_str("int_5f3a9c7e5f3a9c7e5f3a9c7e5f3a9c7e").unwrap()
    }

    #[test]
    fn the_target_is_public_url_else_listen_else_the_flag_and_always_signed_for_public_url() {
        let local = Target::for_config(&config("listen = \"127.0.0.1:8480\"\n"), None, id());
        assert_eq!(
            local.post_url,
            "http://127.0.0.1:8480/v1/hooks/int_5f3a9c7e5f3a9c7e5f3a9c7e5f3a9c7e"
        );
        assert_eq!(
            local.signed_url, local.post_url,
            "no proxy: signed as called"
        );

        let wildcard = Target::for_config(
            &config("listen = \"0.0.0.0:8480\"\nallow_insecure_http = true\n"),
            None,
            id(),
        );
        assert!(
            wildcard.post_url.starts_with("http://127.0.0.1:8480/"),
            "{wildcard:?}"
        );

        let public = config("public_url = \"https://relay.example/\"\n");
        let proxied = Target::for_config(&public, None, id());
        assert!(
            proxied
                .post_url
                .starts_with("https://relay.example/v1/hooks/")
        );
        let flagged = Target::for_config(&public, Some("http://127.0.0.1:9/"), id());
        assert!(
            flagged.post_url.starts_with("http://127.0.0.1:9/v1/hooks/"),
            "{flagged:?}"
        );
        assert!(
            flagged
                .signed_url
                .starts_with("https://relay.example/v1/hooks/"),
            "the relay checks Twilio against public_url: {flagged:?}"
        );
    }

    #[test]
    fn states_parse_by_name_in_any_case() {
        assert_eq!(parse_state("Ringing"), Ok(CallState::Ringing));
        assert_eq!(parse_state(" voicemail "), Ok(CallState::Voicemail));
        assert!(parse_state("hold").is_err());
    }
}
