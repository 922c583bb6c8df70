//! The org's owner, as a second person at another computer: joins with the owner invitation the
//! relay's `org create` printed, enrols TOTP (as owners must), and acts through the relay's API
//! with `ringside-client` — the same calls the admin screens make.

use ringside_client::{Client, Session};
use ringside_core::Pii;
use ringside_core::wire::{AcceptInvitationRequest, CodeRequest, MfaPolicyRequest};

use super::relay::Relay;

/// A signed-in owner, with the recovery codes their enrolment gave.
pub(crate) struct Owner {
    session: Session,
    recovery: std::sync::Mutex<Vec<String>>,
}

impl Owner {
    /// Joins `relay`'s org as its first owner and enrols TOTP.
    pub(crate) async fn join(relay: &Relay) -> Self {
        let client = Client::new(&relay.url).unwrap();
        let session = client
            .accept_invitation(&AcceptInvitationRequest {
                code: Pii::new(relay.owner_invitation.clone()),
                display_name: Pii::new("Agency Owner".to_owned()),
                password: Pii::new("orchard compass lantern 41".to_owned()),
                device_name: Pii::new("Owner's laptop".to_owned()),
            })
            .await
            .expect("the owner joins");
        let enrolment = session.start_totp().await.expect("TOTP enrolment starts");
        let totp = totp_rs::TOTP::from_url(enrolment.otpauth_uri.expose()).unwrap();
        let codes = session
            .confirm_totp(&CodeRequest {
                code: Pii::new(totp.generate_current().unwrap()),
            })
            .await
            .expect("the code from the authenticator is accepted");
        let recovery = codes.recovery_codes.iter().map(|c| c.expose().clone());
        Self {
            session,
            recovery: std::sync::Mutex::new(recovery.collect()),
        }
    }

    /// Verifies the second factor again (with a recovery code: a TOTP code from the same 30 s
    /// as the enrolment's would be refused as replayed), for changes that need a recent one.
    async fn step_up(&self) {
        let code = self
            .recovery
            .lock()
            .unwrap()
            .pop()
            .expect("a recovery code left");
        self.session
            .step_up(&CodeRequest {
                code: Pii::new(code),
            })
            .await
            .expect("the owner's step-up");
    }

    /// Requires a second factor of everyone in the org.
    pub(crate) async fn require_second_factor_of_everyone(&self) {
        self.session
            .set_mfa_policy(&MfaPolicyRequest {
                require_for_all: true,
            })
            .await
            .expect("the policy is set");
    }

    /// Disables the member `email`: their sessions end at once.
    pub(crate) async fn disable(&self, email: &str) {
        let team = self.session.team().await.expect("the team");
        let user = team
            .users
            .iter()
            .find(|u| u.email.expose() == email)
            .expect("the member");
        self.step_up().await;
        self.session
            .disable_user(user.id)
            .await
            .expect("the member is disabled");
    }
}
