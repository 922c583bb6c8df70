/**
 * The production `Backend`: each method is one Tauri command. Command names and argument shapes
 * must match `#[tauri::command]` functions in `src-tauri/src/commands/` (and be granted in
 * `src-tauri/capabilities/default.json`).
 */
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import type { BuildInfo } from "../generated/BuildInfo";
import { toBackendError, type Backend } from "./backend";

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
}
