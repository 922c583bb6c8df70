//! The compact pop window: the newest pop, on top of the agent's other windows, so the caller's
//! name is in sight while they work in the AMS or the phone app. It opens when a pop appears,
//! without taking the keyboard from whatever the agent is typing in, and is closed when no pop
//! is left: its web process goes with it (~160 MiB of WebKit that an idle app need not hold;
//! docs/benchmarks.md), and the next pop makes it again. Its place is remembered per monitor:
//! where the agent dragged it on that monitor, else the top-right corner of the monitor the main
//! window is on.
//!
//! Made on the first pop, not at start-up, so the main window is the app's first (the one the
//! WebDriver session of the E2E tests attaches to). It loads the same UI with `#pop`
//! (`ui/src/main.ts`), and its capability (`capabilities/pop.json`) grants it only what a pop
//! needs.

use ringside_core::wire::Board;
use ringside_desktop_core::App;
use tauri::{
    AppHandle, Manager, PhysicalPosition, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
    WindowEvent,
};

/// The pop window's label (its capability names it).
pub const LABEL: &str = "pop";
/// Its size, in logical pixels.
const SIZE: (f64, f64) = (420.0, 300.0);
/// The gap to the monitor's edge for the default place, in physical pixels.
const MARGIN: i32 = 24;

/// A pop appeared: show the window, where it belongs, without focus. Windows are made and moved
/// on the main thread (GTK's); this is called from the stream's task, so it hands the work over.
pub fn show(handle: &AppHandle) {
    let app = handle.clone();
    let handed = handle.run_on_main_thread(move || {
        let window = match app.get_webview_window(LABEL) {
            Some(window) => window,
            None => match create(&app) {
                Ok(window) => window,
                Err(error) => {
                    tracing::warn!(%error, "the pop window could not be made");
                    return;
                }
            },
        };
        place(&app, &window);
        if let Err(error) = window.show() {
            tracing::warn!(%error, "the pop window could not be shown");
        }
    });
    if let Err(error) = handed {
        tracing::warn!(%error, "the pop window's work could not reach the main thread");
    }
}

/// The board changed: close the window when no pop is left on it.
pub fn follow(handle: &AppHandle, board: &Board) {
    if board.cards.is_empty()
        && let Some(window) = handle.get_webview_window(LABEL)
        && let Err(error) = window.destroy()
    {
        tracing::warn!(%error, "the pop window could not be closed");
    }
}

fn create(handle: &AppHandle) -> tauri::Result<WebviewWindow> {
    let window = WebviewWindowBuilder::new(handle, LABEL, WebviewUrl::App("index.html#pop".into()))
        .title("Ringside: a call")
        .inner_size(SIZE.0, SIZE.1)
        .resizable(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .focused(false)
        .visible(false)
        .build()?;
    let moved = window.clone();
    let app = handle.clone();
    window.on_window_event(move |event| match event {
        WindowEvent::Moved(at) => {
            if let Some(state) = app.try_state::<App>()
                && let Ok(Some(monitor)) = moved.current_monitor()
            {
                let name = monitor.name().cloned().unwrap_or_default();
                if let Err(error) = state.remember_pop_window_at(&name, (at.x, at.y)) {
                    tracing::warn!(%error, "the pop window's place could not be kept");
                }
            }
        }
        // A pop that arrived while the window was being closed found it still there and showed
        // it: make it again.
        WindowEvent::Destroyed
            if app
                .try_state::<App>()
                .is_some_and(|state| !state.board().cards.is_empty()) =>
        {
            show(&app);
        }
        _ => {}
    });
    Ok(window)
}

/// Puts the window where the agent left it on the main window's monitor, else in its top-right
/// corner.
fn place(handle: &AppHandle, window: &WebviewWindow) {
    let monitor = handle
        .get_webview_window("main")
        .and_then(|main| main.current_monitor().ok().flatten())
        .or_else(|| window.primary_monitor().ok().flatten());
    let Some(monitor) = monitor else { return };
    let name = monitor.name().cloned().unwrap_or_default();
    let kept = handle
        .try_state::<App>()
        .and_then(|app| app.pop_window_at(&name));
    let at = kept.unwrap_or_else(|| {
        // The window's own size is not known before it is first shown: use the one it is made with.
        #[allow(clippy::cast_possible_truncation)]
        let width = (SIZE.0 * monitor.scale_factor()).round() as i32;
        let right = monitor.position().x + i32::try_from(monitor.size().width).unwrap_or(0);
        (right - width - MARGIN, monitor.position().y + MARGIN)
    });
    let _ = window.set_position(PhysicalPosition::new(at.0, at.1));
}
