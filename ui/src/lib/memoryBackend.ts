/**
 * A `Backend` that keeps its state in memory: used by the unit tests and when the UI runs in a
 * plain browser (`npm run dev` outside Tauri). Tests set its fields to shape what the UI sees.
 */
import type { BuildInfo } from "../generated/BuildInfo";
import type { Backend, BackendError } from "./backend";

export class MemoryBackend implements Backend {
  buildInfo: BuildInfo = {
    name: "ringside-desktop",
    version: "0.0.0-memory",
    protocol_version: 1,
    platform: "browser",
  };

  /** When set, every call rejects with this error. */
  failure: BackendError | null = null;

  async appInfo(): Promise<BuildInfo> {
    this.failIfAsked();
    return structuredClone(this.buildInfo);
  }

  private failIfAsked(): void {
    if (this.failure !== null) {
      throw this.failure;
    }
  }
}
