// Entry point: picks the real backend inside Tauri, the in-memory one in a plain browser.
import { isTauri } from "@tauri-apps/api/core";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import type { Backend } from "./lib/backend";
import { MemoryBackend } from "./lib/memoryBackend";
import { TauriBackend } from "./lib/tauriBackend";

const target = document.getElementById("app");
if (target === null) {
  throw new Error("index.html has no #app element");
}

const backend: Backend = isTauri() ? new TauriBackend() : new MemoryBackend();

export default mount(App, { target, props: { backend } });
