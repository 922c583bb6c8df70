//! Setting up a second factor from the app: the step after joining (or signing in) when the
//! user's role, or their org, requires one and they have none.
//!
//! The relay makes the secret (`POST /v1/me/totp`); the QR code is drawn here, as SVG, so the
//! secret never goes to an image service; the same secret is shown as text for typing. The
//! code from the authenticator confirms it (`POST /v1/me/totp/confirm`) and answers the recovery
//! codes, which the UI shows once. When the org requires a second factor of everyone, the
//! stream waits until then — the relay would refuse it — and the status says why.
//!
//! Replacing an enrolled factor (a new phone) asks for the current one first: the relay answers
//! `step_up_required` unless the session verified it recently, and [`App::step_up`] does that.

use std::sync::Arc;

use ringside_client::Session;
use ringside_core::Pii;
use ringside_core::wire::{
    CodeRequest, ConnectionStatus, MfaRequirement, RecoveryCodes, TotpSetup,
};

use super::{App, lock};
use crate::Error;
use crate::keychain::Saved;

impl App {
    /// Goes live with a signed-in session — unless the org requires a second factor of
    /// everyone and this user has none: then the session waits for [`App::confirm_totp`].
    pub(super) async fn enter(&self, session: Session) {
        let session = Arc::new(session);
        let tokens = session.tokens().await;
        let due = !tokens.mfa_enrolled && tokens.mfa_required_for != MfaRequirement::Nothing;
        lock(&self.0.state).second_factor_due = due;
        if due && tokens.mfa_required_for == MfaRequirement::Everything {
            self.stop_stream();
            lock(&self.0.state).waiting = Some(session);
            self.set_status(ConnectionStatus::SecondFactorRequired);
        } else {
            self.go_live(session).await;
        }
    }

    /// The signed-in session, live or waiting for its second factor.
    pub(super) fn current_session(&self) -> Result<Arc<Session>, Error> {
        let state = lock(&self.0.state);
        state
            .live
            .as_ref()
            .map(|live| &live.session)
            .or(state.waiting.as_ref())
            .map(Arc::clone)
            .ok_or(Error::NotReady("not signed in"))
    }

    /// Starts a TOTP enrolment: the secret as text and as a QR code.
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in; the relay's refusal.
    pub async fn start_totp(&self) -> Result<TotpSetup, Error> {
        let session = self.current_session()?;
        let enrolment = session.start_totp().await?;
        let qr_svg = qr_svg(enrolment.otpauth_uri.expose())?;
        Ok(TotpSetup {
            secret: Pii::new(grouped(enrolment.secret_base32.expose())),
            qr_svg: Pii::new(qr_svg),
        })
    }

    /// Verifies the second factor again (a TOTP or a recovery code), for the actions the relay
    /// refused with `step_up_required`: they can be tried again for the next few minutes.
    ///
    /// # Errors
    /// [`Error::NotReady`] when not signed in; the relay's refusal (`invalid_second_factor`, …).
    pub async fn step_up(&self, code: &str) -> Result<(), Error> {
        let request = CodeRequest {
            code: Pii::new(code.split_whitespace().collect()),
        };
        Ok(self.current_session()?.step_up(&request).await?)
    }

    /// Confirms the enrolment with a code from the authenticator; answers the recovery codes
    /// (shown once). The session then goes live if it was waiting for this.
    ///
    /// # Errors
    /// The relay's refusal (`invalid_code`, …): the enrolment can be tried again.
    pub async fn confirm_totp(&self, code: &str) -> Result<RecoveryCodes, Error> {
        let session = self.current_session()?;
        let request = CodeRequest {
            code: Pii::new(code.split_whitespace().collect()),
        };
        let codes = session.confirm_totp(&request).await?;
        // The next tokens say the factor is enrolled: keep those, so a restart does not ask again.
        if let Err(err) = session.refresh().await {
            tracing::info!(error = %err, "the tokens were not refreshed after the enrolment");
        }
        let tokens = session.tokens().await;
        if let Err(err) = self.keychain(session.client()).save(&Saved { tokens }) {
            tracing::warn!(error = %err, "the session could not be kept after the enrolment");
        }
        let waiting = {
            let mut state = lock(&self.0.state);
            state.second_factor_due = false;
            state.waiting.take()
        };
        if let Some(waiting) = waiting {
            self.go_live(waiting).await;
        }
        Ok(codes)
    }
}

/// The `otpauth://` URI as an SVG QR code, dark on light whatever the theme (scanners need it).
fn qr_svg(uri: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| Error::InvalidInput(format!("the enrolment could not be drawn: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build())
}

/// `JBSWY3DPEHPK3PXP` as `JBSW Y3DP EHPK 3PXP`.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_reads_in_groups_of_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(grouped("ABCDEF"), "ABCD EF");
    }

    #[test]
    fn the_qr_code_is_an_svg_drawn_here_that_does_not_carry_the_secret_as_text() {
        let uri =
            "otpauth://totp/Ringside:desk%40acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Ringside";
        let svg = qr_svg(uri).unwrap();
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg"),
            "{}",
            &svg[..80]
        );
        assert!(
            svg.contains("width=\"2") || svg.contains("width=\"3"),
            "at least 220 px"
        );
        assert!(
            !svg.contains("JBSWY3DP"),
            "the secret is in the modules, not the markup"
        );
    }
}
