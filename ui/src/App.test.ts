// Behaviour of the app shell against an in-memory backend: no Tauri, no Rust.
import { describe, expect, it } from "vitest";
import { BackendError } from "./lib/backend";
import { MemoryBackend } from "./lib/memoryBackend";
import { render, settle } from "./lib/testing";

describe("the app shell", () => {
  it("shows the product name and an empty screen-pops area before any call", async () => {
    const backend = new MemoryBackend();
    backend.state = { relay: "https://relay.example", insecure_relay: false, status: { state: "connected" }, second_factor_due: false };
    const root = render(backend);
    await settle();

    expect(root.querySelector("#product-name")?.textContent, "the header names the product").toBe(
      "Ringside",
    );
    expect(
      root.querySelector("#pops-empty")?.textContent,
      "with no calls the pops area says so instead of staying blank",
    ).toContain("No calls yet");
  });

  it("shows the version and protocol version the backend reports", async () => {
    const backend = new MemoryBackend();
    backend.buildInfo = {
      name: "ringside-desktop",
      version: "9.8.7",
      protocol_version: 42,
      platform: "linux-x86_64",
    };
    const root = render(backend);
    await settle();

    expect(
      root.querySelector("#app-version")?.textContent,
      "the About line shows the version from the backend, not a hard-coded one",
    ).toBe("9.8.7");
    expect(
      root.querySelector("#protocol-version")?.textContent,
      "the About line shows the protocol version from the backend",
    ).toBe("42");
    expect(root.querySelector("#app-info-error"), "a successful call shows no error").toBeNull();
  });

  it("shows the error code when the backend cannot say which version runs", async () => {
    const backend = new MemoryBackend();
    backend.failure = new BackendError("internal", "the backend is on fire");
    const root = render(backend);
    await settle();

    const error = root.querySelector<HTMLElement>("#app-info-error");
    expect(error, "a failed call shows an error state").not.toBeNull();
    expect(error?.dataset.code, "the error state carries the machine-readable code").toBe(
      "internal",
    );
    expect(error?.textContent, "the error state shows the code to the person").toContain(
      "internal",
    );
    expect(root.querySelector("#app-version"), "no version is shown when the call failed").toBeNull();
  });
});
