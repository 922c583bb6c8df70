/**
 * A `Backend` that keeps its state in memory: used by the unit tests and when the UI runs in a
 * plain browser (`npm run dev` outside Tauri). Tests set its fields to shape what the UI sees,
 * read `sent` to see what the UI asked for, and call `push` to play the Rust side's updates.
 */
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
import { BackendError as BackendErrorClass, type Backend, type BackendError, type Updates } from "./backend";

/** One thing the UI asked the backend to do, as the tests check it. */
export type Sent =
  | { kind: "choose_relay"; url: string }
  | { kind: "accept_invitation"; code: string; displayName: string }
  | { kind: "sign_in"; email: string }
  | { kind: "second_factor"; code: string }
  | { kind: "start_totp" }
  | { kind: "confirm_totp"; code: string }
  | { kind: "step_up"; code: string }
  | { kind: "sign_out" }
  | { kind: "dismiss"; popId: string }
  | { kind: "dismiss_all" }
  | { kind: "pick"; popId: string; contact: string }
  | { kind: "note"; popId: string; text: string }
  | { kind: "mark_missed_seen" }
  | { kind: "open_record"; url: string }
  | { kind: "set_settings"; settings: PopSettings }
  | { kind: "leaderboard"; days: number }
  | { kind: "set_paused"; paused: boolean }
  | { kind: "show_main" }
  | { kind: "set_autostart"; enabled: boolean };

export class MemoryBackend implements Backend {
  buildInfo: BuildInfo = {
    name: "ringside-desktop",
    version: "0.0.0-memory",
    protocol_version: 1,
    platform: "browser",
  };

  state: Overview = {
    insecure_relay: false,
    status: { state: "signed_out" },
    second_factor_due: false,
  };
  current: Board = { cards: [], collapsed: 0, missed: [], paused: false };
  /** Whether the app starts with the desktop session. */
  starts: boolean = false;
  /** What `leaderboard` answers (its `days` is the one asked for). */
  team: Leaderboard = { days: 7, entries: [] };
  /** The agent's choices about pops. */
  popSettings: PopSettings = {
    cap: 3,
    pop_on: "ring",
    close_on_hang_up: false,
    sound: true,
    notifications: true,
  };
  /** What `history` answers. */
  calls: MyCallList = { calls: [] };
  /** What `notes` answers. */
  notes: MyNoteList = { notes: [] };
  /** What `startTotp` answers. */
  totp: TotpSetup = { secret: "JBSW Y3DP EHPK 3PXP", qr_svg: "<svg xmlns='http://www.w3.org/2000/svg'/>" };
  /** What `confirmTotp` answers. */
  recovery: RecoveryCodes = { recovery_codes: ["ab12-cd34", "ef56-gh78"] };
  /** Whether `startTotp` (replacing a factor) asks for a step-up first, as the relay does when
   * the session's second factor is not recent; `stepUp` with `stepUpCode` clears it. */
  stepUpNeeded = false;
  /** The code `stepUp` accepts. */
  stepUpCode = "123456";
  /** What `signIn` answers. */
  signInStep: SignInStep = "signed_in";
  sent: Sent[] = [];

  /** When set, every call rejects with this error. */
  failure: BackendError | null = null;

  private listeners: Updates[] = [];

  /** Plays an update from the Rust side. */
  push(update: { status: ConnectionStatus } | { board: Board } | { newPop: string }): void {
    for (const l of this.listeners) {
      if ("status" in update) {
        this.state.status = update.status;
        l.status(update.status);
      } else if ("board" in update) {
        this.current = update.board;
        l.board(update.board);
      } else {
        l.newPop(update.newPop);
      }
    }
  }

  async appInfo(): Promise<BuildInfo> {
    this.failIfAsked();
    return structuredClone(this.buildInfo);
  }

  async overview(): Promise<Overview> {
    this.failIfAsked();
    return structuredClone(this.state);
  }

  async board(): Promise<Board> {
    this.failIfAsked();
    return structuredClone(this.current);
  }

  async chooseRelay(url: string): Promise<Overview> {
    this.failIfAsked();
    this.sent.push({ kind: "choose_relay", url });
    this.state.relay = url;
    this.state.insecure_relay = url.startsWith("http://");
    return structuredClone(this.state);
  }

  async acceptInvitation(code: string, displayName: string): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "accept_invitation", code, displayName });
    this.push({ status: { state: "connecting" } });
  }

  async signIn(email: string): Promise<SignInStep> {
    this.failIfAsked();
    this.sent.push({ kind: "sign_in", email });
    if (this.signInStep === "signed_in") {
      this.push({ status: { state: "connecting" } });
    }
    return this.signInStep;
  }

  async secondFactor(code: string): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "second_factor", code });
    this.push({ status: { state: "connecting" } });
  }

  async startTotp(): Promise<TotpSetup> {
    this.failIfAsked();
    this.sent.push({ kind: "start_totp" });
    if (this.stepUpNeeded) {
      throw new BackendErrorClass("step_up_required", "This needs your second factor again.");
    }
    return structuredClone(this.totp);
  }

  async stepUp(code: string): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "step_up", code });
    if (code.replace(/\s/g, "") !== this.stepUpCode) {
      throw new BackendErrorClass("invalid_second_factor", "That code is not right.");
    }
    this.stepUpNeeded = false;
  }

  async confirmTotp(code: string): Promise<RecoveryCodes> {
    this.failIfAsked();
    this.sent.push({ kind: "confirm_totp", code });
    this.state.second_factor_due = false;
    if (this.state.status.state === "second_factor_required") {
      this.push({ status: { state: "connecting" } });
    }
    return structuredClone(this.recovery);
  }

  async signOut(): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "sign_out" });
    this.push({ status: { state: "signed_out" } });
  }

  async dismiss(popId: string): Promise<Board> {
    this.failIfAsked();
    this.sent.push({ kind: "dismiss", popId });
    this.current.cards = this.current.cards.filter((c) => c.pop_id !== popId);
    return structuredClone(this.current);
  }

  async dismissAll(): Promise<Board> {
    this.failIfAsked();
    this.sent.push({ kind: "dismiss_all" });
    this.current = { ...this.current, cards: [], collapsed: 0 };
    return structuredClone(this.current);
  }

  async pick(popId: string, contact: string): Promise<Board> {
    this.failIfAsked();
    this.sent.push({ kind: "pick", popId, contact });
    const card = this.current.cards.find((c) => c.pop_id === popId);
    if (card) {
      card.picked = contact;
    }
    return structuredClone(this.current);
  }

  async note(popId: string, text: string): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "note", popId, text });
  }

  async markMissedSeen(): Promise<Board> {
    this.failIfAsked();
    this.sent.push({ kind: "mark_missed_seen" });
    this.current.missed = this.current.missed.map((m) => ({ ...m, seen: true }));
    return structuredClone(this.current);
  }

  async history(): Promise<MyCallList> {
    this.failIfAsked();
    return structuredClone(this.calls);
  }

  async myNotes(): Promise<MyNoteList> {
    this.failIfAsked();
    return structuredClone(this.notes);
  }

  async leaderboard(days: number): Promise<Leaderboard> {
    this.failIfAsked();
    this.sent.push({ kind: "leaderboard", days });
    return { ...structuredClone(this.team), days };
  }

  async showMain(): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "show_main" });
  }

  async setPaused(paused: boolean): Promise<Board> {
    this.failIfAsked();
    this.sent.push({ kind: "set_paused", paused });
    this.push({ board: { ...this.current, paused } });
    return structuredClone(this.current);
  }

  async autostart(): Promise<boolean> {
    this.failIfAsked();
    return this.starts;
  }

  async setAutostart(enabled: boolean): Promise<boolean> {
    this.failIfAsked();
    this.sent.push({ kind: "set_autostart", enabled });
    this.starts = enabled;
    return enabled;
  }

  async settings(): Promise<PopSettings> {
    this.failIfAsked();
    return structuredClone(this.popSettings);
  }

  async setSettings(settings: PopSettings): Promise<PopSettings> {
    this.failIfAsked();
    if (settings.cap < 1 || settings.cap > 10) {
      throw new BackendErrorClass("invalid_input", "show between 1 and 10 pops at once");
    }
    this.sent.push({ kind: "set_settings", settings: structuredClone(settings) });
    this.popSettings = structuredClone(settings);
    return structuredClone(this.popSettings);
  }

  async openRecord(url: string): Promise<void> {
    this.failIfAsked();
    this.sent.push({ kind: "open_record", url });
  }

  async subscribe(updates: Updates): Promise<() => void> {
    this.listeners.push(updates);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== updates);
    };
  }

  private failIfAsked(): void {
    if (this.failure !== null) {
      throw this.failure;
    }
  }
}
