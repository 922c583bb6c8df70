/**
 * The production `Backend`: each method is one Tauri command, each update one Tauri event.
 * Command names and argument shapes must match `#[tauri::command]` functions in
 * `src-tauri/src/commands/` (and be granted in `src-tauri/capabilities/default.json`); event
 * names match `src-tauri/src/events.rs`.
 */
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
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
import { toBackendError, type Backend, type Updates } from "./backend";

async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw toBackendError(err);
  }
}

export class TauriBackend implements Backend {
  appInfo(): Promise<BuildInfo> {
    return call<BuildInfo>("app_info");
  }

  overview(): Promise<Overview> {
    return call<Overview>("overview");
  }

  board(): Promise<Board> {
    return call<Board>("board");
  }

  chooseRelay(url: string): Promise<Overview> {
    return call<Overview>("choose_relay", { url });
  }

  acceptInvitation(code: string, displayName: string, password: string): Promise<void> {
    return call<void>("accept_invitation", { code, displayName, password });
  }

  signIn(email: string, password: string): Promise<SignInStep> {
    return call<SignInStep>("sign_in", { email, password });
  }

  secondFactor(code: string): Promise<void> {
    return call<void>("second_factor", { code });
  }

  startTotp(): Promise<TotpSetup> {
    return call<TotpSetup>("start_totp");
  }

  confirmTotp(code: string): Promise<RecoveryCodes> {
    return call<RecoveryCodes>("confirm_totp", { code });
  }

  stepUp(code: string): Promise<void> {
    return call<void>("step_up", { code });
  }

  signOut(): Promise<void> {
    return call<void>("sign_out");
  }

  dismiss(popId: string): Promise<Board> {
    return call<Board>("dismiss", { popId });
  }

  dismissAll(): Promise<Board> {
    return call<Board>("dismiss_all");
  }

  pick(popId: string, contact: string): Promise<Board> {
    return call<Board>("pick", { popId, contact });
  }

  note(popId: string, text: string): Promise<void> {
    return call<void>("note", { popId, text });
  }

  markMissedSeen(): Promise<Board> {
    return call<Board>("mark_missed_seen");
  }

  history(): Promise<MyCallList> {
    return call<MyCallList>("history");
  }

  myNotes(): Promise<MyNoteList> {
    return call<MyNoteList>("notes");
  }

  leaderboard(days: number): Promise<Leaderboard> {
    return call<Leaderboard>("leaderboard", { days });
  }

  showMain(): Promise<void> {
    return call<void>("show_main");
  }

  setPaused(paused: boolean): Promise<Board> {
    return call<Board>("set_paused", { paused });
  }

  autostart(): Promise<boolean> {
    return call<boolean>("autostart");
  }

  setAutostart(enabled: boolean): Promise<boolean> {
    return call<boolean>("set_autostart", { enabled });
  }

  settings(): Promise<PopSettings> {
    return call<PopSettings>("settings");
  }

  setSettings(settings: PopSettings): Promise<PopSettings> {
    return call<PopSettings>("set_settings", { settings });
  }

  openRecord(url: string): Promise<void> {
    return call<void>("open_record", { url });
  }

  async subscribe(updates: Updates): Promise<() => void> {
    const stops = await Promise.all([
      listen<ConnectionStatus>("status", (e) => updates.status(e.payload)),
      listen<Board>("board", (e) => updates.board(e.payload)),
      listen<string>("new_pop", (e) => updates.newPop(e.payload)),
    ]);
    return () => stops.forEach((stop) => stop());
  }
}
