// The compact pop window against an in-memory backend: it shows the newest pop only, counts the
// others, acts on the pop it shows, and brings the main window forward.
import { flushSync, mount, unmount } from "svelte";
import { afterEach, describe, expect, it } from "vitest";
import PopWindow from "./PopWindow.svelte";
import type { PopCard } from "./generated/PopCard";
import { MemoryBackend } from "./lib/memoryBackend";
import { settle } from "./lib/testing";

const card = (n: number): PopCard => ({
  pop_id: `pop_0000000000000000000000000000000${n}`,
  call_id: `cal_0000000000000000000000000000000${n}`,
  direction: "inbound",
  number: `(617) 555-010${n}`,
  state: "ringing",
  match: { status: "pending" },
  sms_opted_out: false,
  created_at: "2026-12-04T09:00:00Z",
});

let app: Record<string, unknown> | null = null;
afterEach(() => {
  if (app !== null) unmount(app);
  app = null;
  document.body.innerHTML = "";
});

describe("the pop window", () => {
  it("shows the newest pop, counts the rest, and closes the one it shows", async () => {
    const backend = new MemoryBackend();
    backend.current = { cards: [card(2), card(1)], collapsed: 1, missed: [], paused: false };
    const target = document.createElement("div");
    document.body.appendChild(target);
    app = mount(PopWindow, { target, props: { backend } });
    await settle();

    const pops = target.querySelectorAll("[data-testid=pop]");
    expect(pops.length, "the newest only").toBe(1);
    expect(target.querySelector("[data-testid=pop-number]")?.textContent).toBe("(617) 555-0102");
    expect(target.querySelector("footer")?.textContent).toContain("+2 more in Ringside");

    target.querySelector<HTMLButtonElement>("[data-testid=pop-dismiss]")?.click();
    await settle();
    expect(backend.sent).toContainEqual({ kind: "dismiss", popId: card(2).pop_id });

    target.querySelector<HTMLButtonElement>("#open-main")?.click();
    await settle();
    expect(backend.sent.at(-1)).toEqual({ kind: "show_main" });

    backend.push({ board: { cards: [], collapsed: 0, missed: [], paused: false } });
    flushSync();
    expect(target.querySelector("[data-testid=pop]")).toBeNull();
  });
});
