//! The command line: `--relay URL` (sign in to this relay, whatever the profile says) and
//! `--profile DIR` (keep this instance's settings there), so several instances and the tests
//! never share state. Anything else is refused with a usage line.

use std::path::PathBuf;

/// What the command line asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// The relay to sign in to.
    pub relay: Option<String>,
    /// The profile folder.
    pub profile: Option<PathBuf>,
}

/// How to call the app.
pub const USAGE: &str = "usage: ringside-desktop [--relay URL] [--profile DIR]";

impl Args {
    /// Reads `args` (the program's name excluded).
    ///
    /// # Errors
    /// A message naming what was not understood.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
            };
            match name.as_str() {
                "--relay" => out.relay = Some(value()?),
                "--profile" => out.profile = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other:?}; {USAGE}")),
            }
        }
        Ok(out)
    }
}

/// This device's name as the relay lists it in the user's sessions: the host's name.
pub fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty() && name.len() <= 64)
        .unwrap_or_else(|| "Ringside desktop".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn the_relay_and_profile_are_read_in_both_spellings_and_anything_else_is_refused() {
        assert_eq!(parse(&[]).unwrap(), Args::default());
        let both = parse(&["--relay", "https://r.example", "--profile=/tmp/p"]).unwrap();
        assert_eq!(both.relay.as_deref(), Some("https://r.example"));
        assert_eq!(both.profile, Some(PathBuf::from("/tmp/p")));
        assert!(parse(&["--relay"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--verbose"])
                .unwrap_err()
                .contains("unknown argument")
        );
    }
}
