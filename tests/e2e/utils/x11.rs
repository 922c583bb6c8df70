//! The X server's view of the app's windows (`xwininfo`, from x11-utils): what WebDriver cannot
//! see — the compact pop window is a second top-level window outside the automation session.

use std::process::Command;

/// The Xvfb screen the tests run on (`xvfb-run -s "-screen 0 1280x800x24"`).
pub(crate) const SCREEN: (i32, i32) = (1280, 800);

/// A top-level window as the X server has it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) x: i32,
    pub(crate) y: i32,
    pub(crate) width: i32,
    /// Mapped and not hidden.
    pub(crate) viewable: bool,
}

/// Every window the X server has, as `xwininfo -root -tree` prints them (for failure messages).
pub(crate) fn tree() -> String {
    run(&["-root", "-tree"]).unwrap_or_else(|| "xwininfo failed".to_owned())
}

/// The window of the process `pid` titled exactly `title`, if there is one (several apps may
/// share the test's display).
pub(crate) fn window(pid: u32, title: &str) -> Option<Window> {
    let tree = run(&["-root", "-tree"])?;
    let quoted = format!("\"{title}\"");
    let id = tree
        .lines()
        .filter(|line| line.contains(&quoted))
        .filter_map(|line| line.split_whitespace().next())
        .find(|id| owner(id) == Some(pid))?
        .to_owned();
    let info = run(&["-id", &id])?;
    let field = |name: &str| -> Option<i32> {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    Some(Window {
        x: field("Absolute upper-left X:")?,
        y: field("Absolute upper-left Y:")?,
        width: field("Width:")?,
        viewable: info.contains("Map State: IsViewable"),
    })
}

/// The process that made window `id` (`_NET_WM_PID`, which GTK sets).
fn owner(id: &str) -> Option<u32> {
    let out = Command::new("xprop")
        .args(["-id", id, "_NET_WM_PID"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .rsplit('=')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn run(args: &[&str]) -> Option<String> {
    let out = Command::new("xwininfo").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
