/**
 * The one seam between the UI and the Rust side of the app.
 *
 * Components ask a `Backend` for data and never call Tauri's `invoke` themselves, so:
 * - every command name and argument shape lives in one file (`tauriBackend.ts`);
 * - tests (and `npm run dev` in a plain browser) swap in `MemoryBackend` with no Tauri at all;
 * - every failure reaches components as a `BackendError` whose `code` they can switch on.
 *
 * Wire types come only from `../generated/`, which is generated from the Rust types in
 * `ringside-core`; nothing here redefines them.
 */
import { getContext, setContext } from "svelte";
import type { Board } from "../generated/Board";
import type { BuildInfo } from "../generated/BuildInfo";
import type { ConnectionStatus } from "../generated/ConnectionStatus";
import type { MyCallList } from "../generated/MyCallList";
import type { MyNoteList } from "../generated/MyNoteList";
import type { Leaderboard } from "../generated/Leaderboard";
import type { Overview } from "../generated/Overview";
import type { PopSettings } from "../generated/PopSettings";
import type { RecoveryCodes } from "../generated/RecoveryCodes";
import type { SignInStep } from "../generated/SignInStep";
import type { TotpSetup } from "../generated/TotpSetup";

/** What the Rust side pushes as it happens. */
export interface Updates {
  status(status: ConnectionStatus): void;
  board(board: Board): void;
  newPop(popId: string): void;
}

export interface Backend {
  /** What the running app says about itself: name, version, protocol version, platform. */
  appInfo(): Promise<BuildInfo>;
  /** Which relay, whether sign-ins are remembered, the connection. */
  overview(): Promise<Overview>;
  /** The pops and missed calls now. */
  board(): Promise<Board>;
  /** Chooses the relay (https; http only to this machine). */
  chooseRelay(url: string): Promise<Overview>;
  /** Joins the organisation with an invitation code, and signs in. */
  acceptInvitation(code: string, displayName: string, password: string): Promise<void>;
  /** Signs in; `second_factor` means: ask for the code, then call `secondFactor`. */
  signIn(email: string, password: string): Promise<SignInStep>;
  /** Completes a sign-in with the second factor's code. */
  secondFactor(code: string): Promise<void>;
  /** Starts setting up a second factor: the secret as text and as a QR code. */
  startTotp(): Promise<TotpSetup>;
  /** Confirms it with a code from the authenticator; answers the recovery codes (shown once). */
  confirmTotp(code: string): Promise<RecoveryCodes>;
  /** The second factor again (a code or a recovery code) for an action refused with `step_up_required`. */
  stepUp(code: string): Promise<void>;
  /** Signs out. */
  signOut(): Promise<void>;
  /** Closes a pop, on the agent's other devices too. */
  dismiss(popId: string): Promise<Board>;
  /** Closes every pop. */
  dismissAll(): Promise<Board>;
  /** Picks one of a pop's several matches. */
  pick(popId: string, contact: string): Promise<Board>;
  /** The agent's note on the pop's call. */
  note(popId: string, text: string): Promise<void>;
  /** Marks every missed call seen. */
  markMissedSeen(): Promise<Board>;
  /** The agent's own recent calls, with their notes' state. */
  history(): Promise<MyCallList>;
  /** The agent's own notes not yet in the AMS (the relay deletes them once they are). */
  myNotes(): Promise<MyNoteList>;
  /** The team's leaderboard over the last `days` (1–90). */
  leaderboard(days: number): Promise<Leaderboard>;
  /** Brings the main window forward (from the pop window). */
  showMain(): Promise<void>;
  /** Pauses pops (none shown or announced until resumed) or resumes them. */
  setPaused(paused: boolean): Promise<Board>;
  /** Whether the app starts with the desktop session. */
  autostart(): Promise<boolean>;
  /** Starts the app with the desktop session, or stops doing so. */
  setAutostart(enabled: boolean): Promise<boolean>;
  /** What the agent chose about pops. */
  settings(): Promise<PopSettings>;
  /** Keeps the agent's choices about pops (a cap outside 1–10 is refused: `invalid_input`). */
  setSettings(settings: PopSettings): Promise<PopSettings>;
  /** Opens a client's record in the AMS in the system's browser (https links only). */
  openRecord(url: string): Promise<void>;
  /** Calls `updates` as the Rust side pushes; answers how to stop. */
  subscribe(updates: Updates): Promise<() => void>;
}

/**
 * A failed backend call. `code` is stable and meant for `switch`; `message` is for people.
 *
 * Codes sent by the Rust commands (`src-tauri/src/error.rs`, `IpcError`): `invalid_input`,
 * `internal`, `not_ready`, `no_secure_keychain`, `unreachable`, and the relay's own
 * (`invalid_credentials`, `invitation_invalid`, `weak_password`, …).
 * Codes made on this side: `ipc` (the IPC layer refused the call before any command ran, e.g. a
 * command the capability does not grant) and `unexpected` (a rejection of no known shape).
 */
export class BackendError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }
}

/** Normalises whatever a rejected call produced into a `BackendError`. */
export function toBackendError(err: unknown): BackendError {
  if (err instanceof BackendError) {
    return err;
  }
  if (
    typeof err === "object" &&
    err !== null &&
    "code" in err &&
    typeof err.code === "string" &&
    "message" in err &&
    typeof err.message === "string"
  ) {
    return new BackendError(err.code, err.message);
  }
  if (typeof err === "string") {
    return new BackendError("ipc", err);
  }
  return new BackendError("unexpected", String(err));
}

const BACKEND_KEY = Symbol("ringside.backend");

/** Makes `backend` available to every component below the caller (call it in the root component). */
export function setBackend(backend: Backend): void {
  setContext(BACKEND_KEY, backend);
}

/** The backend the root component provided. */
export function getBackend(): Backend {
  const backend = getContext<Backend | undefined>(BACKEND_KEY);
  if (backend === undefined) {
    throw new Error("no Backend in context: the root component must call setBackend()");
  }
  return backend;
}
