//! One running app per profile folder: a second start on the same profile brings the first one's
//! window forward and exits, instead of opening a second stream (two windows popping the same
//! calls, two writers of one cache).
//!
//! Why per profile and not per user: several profiles (`--profile DIR`) may run side by side —
//! an agent with two agencies, or the tests — and the usual single-instance plugins key on the
//! app's identifier, which would forbid that. So: an exclusive lock on `instance.lock` in the
//! profile (the OS drops it when the process ends, however it ends), and a Unix socket
//! `instance.sock` beside it on which the running instance hears "show".

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCK: &str = "instance.lock";
const SOCKET: &str = "instance.sock";
const SHOW: &[u8] = b"show\n";

/// What starting on a profile found.
#[derive(Debug)]
pub enum Claim {
    /// No other instance: this one runs (keep the value alive for as long as it does).
    First(Instance),
    /// Another instance runs on the profile; it was asked to show its window.
    AlreadyRunning,
}

/// The running instance's hold on its profile.
#[derive(Debug)]
pub struct Instance {
    _lock: File,
    /// `None` when the socket could not be made (a profile path too long for one): the lock
    /// still keeps a second instance out, it just cannot bring this one forward.
    listener: Option<UnixListener>,
    socket: PathBuf,
}

/// Claims `profile` (an existing folder) for this process.
///
/// # Errors
/// When the lock file or the socket cannot be made.
pub fn claim(profile: &Path) -> std::io::Result<Claim> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(profile.join(LOCK))?;
    let socket = profile.join(SOCKET);
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            ask_to_show(&socket);
            return Ok(Claim::AlreadyRunning);
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(error),
    }
    // The lock is ours, so a socket file left here is a crashed instance's.
    match std::fs::remove_file(&socket) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&socket)
        .inspect_err(|error| {
            tracing::warn!(%error, "a second start on this profile cannot bring this window forward");
        })
        .ok();
    Ok(Claim::First(Instance {
        _lock: lock,
        listener,
        socket,
    }))
}

fn ask_to_show(socket: &Path) {
    let asked = UnixStream::connect(socket).and_then(|mut stream| {
        stream.set_write_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(SHOW)
    });
    if let Err(error) = asked {
        tracing::warn!(%error, "the running instance could not be asked to show itself");
    }
}

impl Instance {
    /// Calls `show` (on a thread of its own) each time another start on this profile asks.
    ///
    /// # Errors
    /// When the listener cannot be shared with the thread.
    pub fn on_show(&self, show: impl Fn() + Send + 'static) -> std::io::Result<()> {
        let Some(listener) = &self.listener else {
            return Ok(());
        };
        let listener = listener.try_clone()?;
        std::thread::Builder::new()
            .name("ringside-instance".to_owned())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut asked = [0u8; 5];
                    if stream.read_exact(&mut asked).is_ok() && asked == SHOW {
                        show();
                    }
                }
            })?;
        Ok(())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_second_start_on_a_profile_shows_the_first_and_another_profile_runs_beside_it() {
        let profile = tempfile::tempdir().unwrap();
        let Claim::First(first) = claim(profile.path()).unwrap() else {
            panic!("the first start runs");
        };
        let (shown, asked) = mpsc::channel();
        first.on_show(move || shown.send(()).unwrap()).unwrap();

        assert!(matches!(
            claim(profile.path()).unwrap(),
            Claim::AlreadyRunning
        ));
        asked
            .recv_timeout(Duration::from_secs(5))
            .expect("the first instance was asked to show its window");

        let other = tempfile::tempdir().unwrap();
        assert!(
            matches!(claim(other.path()).unwrap(), Claim::First(_)),
            "another profile is another instance"
        );

        drop(first);
        assert!(
            matches!(claim(profile.path()).unwrap(), Claim::First(_)),
            "once the first has quit, the profile is free again"
        );
    }

    #[test]
    fn a_socket_left_by_a_crash_does_not_stop_the_next_start() {
        let profile = tempfile::tempdir().unwrap();
        let stale = UnixListener::bind(profile.path().join(SOCKET)).unwrap();
        drop(stale);
        assert!(matches!(claim(profile.path()).unwrap(), Claim::First(_)));
    }
}
