/**
 * A `Backend` that keeps its state in memory: used by the unit tests and when the UI runs in a
 * plain browser (`npm run dev` outside Tauri). Tests set its fields to shape what the UI sees,
 * read `sent` to see what the UI asked for, and call `push` to play the Rust side's updates.
 */
import type { Board } from "../generated/Board";
import type { BuildInfo } from "../generated/BuildInfo";
import type { ConnectionStatus } from "../generated/ConnectionStatus";
import type { MyCallList } from "../generated/MyCallList";
import type { Overview } from "../generated/Overview";
import type { SignInStep } from "../generated/SignInStep";
import type { Backend, BackendError, Updates } from "./backend";

/** One thing the UI asked the backend to do, as the tests check it. */
export type Sent =
  | { kind: "choose_relay"; url: string }
  | { kind: "accept_invitation"; code: string; displayName: string }
  | { kind: "sign_in"; email: string }
  | { kind: "second_factor"; code: string }
  | { kind: "sign_out" }
  | { kind: "dismiss"; popId: string }
  | { kind: "dismiss_all" }
  | { kind: "pick"; popId: string; contact: string }
  | { kind: "note"; popId: string; text: string }
  | { kind: "mark_missed_seen" }
  | { kind: "open_record"; url: string };

export class MemoryBackend implements Backend {
  buildInfo: BuildInfo = {
    name: "ringside-desktop",
    version: "0.0.0-memory",
    protocol_version: 1,
    platform: "browser",
  };

  state: Overview = { insecure_relay: false, status: { state: "signed_out" } };
  current: Board = { cards: [], collapsed: 0, missed: [] };
  /** What `history` answers. */
  calls: MyCallList = { calls: [] };
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
