/**
 * What the UI tests share: the app mounted on a backend, unmounted after each test, and a way to
 * let pending backend promises resolve and Svelte apply their DOM updates.
 */
import { flushSync, mount, unmount } from "svelte";
import { afterEach } from "vitest";
import App from "../App.svelte";
import type { MemoryBackend } from "./memoryBackend";

let app: Record<string, unknown> | null = null;

/** Mounts the app on `backend`; unmounted after the test. */
export function render(backend: MemoryBackend): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  app = mount(App, { target, props: { backend } });
  return target;
}

/** Lets pending backend promises resolve and Svelte apply the resulting DOM updates. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  flushSync();
}

afterEach(() => {
  if (app !== null) {
    unmount(app);
    app = null;
  }
  document.body.innerHTML = "";
});
