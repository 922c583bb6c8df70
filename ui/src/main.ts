// Entry point: picks the real backend inside Tauri, the in-memory one in a plain browser, and the
// main window's app or the pop window's.
import { isTauri } from "@tauri-apps/api/core";
import { mount } from "svelte";
import App from "./App.svelte";
import PopWindow from "./PopWindow.svelte";
import "./app.css";
import type { Backend } from "./lib/backend";
import { MemoryBackend } from "./lib/memoryBackend";
import { TauriBackend } from "./lib/tauriBackend";

const target = document.getElementById("app");
if (target === null) {
  throw new Error("index.html has no #app element");
}

const backend: Backend = isTauri() ? new TauriBackend() : new MemoryBackend();

// The compact pop window loads this page as `index.html#pop` (src-tauri/src/pop_window.rs).
const Root = location.hash === "#pop" ? PopWindow : App;

export default mount(Root, { target, props: { backend } });
