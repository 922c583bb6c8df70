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
import type { BuildInfo } from "../generated/BuildInfo";

export interface Backend {
  /** What the running app says about itself: name, version, protocol version, platform. */
  appInfo(): Promise<BuildInfo>;
}

/**
 * A failed backend call. `code` is stable and meant for `switch`; `message` is for people.
 *
 * Codes sent by the Rust commands (`src-tauri/src/error.rs`): `invalid_input`, `internal`.
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
