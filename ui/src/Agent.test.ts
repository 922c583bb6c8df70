// The agent's journey through the UI against an in-memory backend: the relay, joining, the
// status line, pops as the Rust side sends them, the picker, notes and closing. No Tauri.
import { flushSync } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PopCard } from "./generated/PopCard";
import { BackendError } from "./lib/backend";
import { MemoryBackend } from "./lib/memoryBackend";
import { render, settle } from "./lib/testing";

function type(root: HTMLElement, css: string, value: string): void {
  const input = root.querySelector<HTMLInputElement | HTMLTextAreaElement>(css);
  if (input === null) throw new Error(`no ${css}`);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function submit(root: HTMLElement, css: string): void {
  root.querySelector<HTMLFormElement>(css)?.requestSubmit();
}

const CARD: PopCard = {
  pop_id: "pop_00000000000000000000000000000001",
  call_id: "cal_00000000000000000000000000000001",
  direction: "inbound",
  number: "(617) 555-0199",
  caller_name: "DANA W",
  state: "ringing",
  match: {
    status: "found",
    contacts: [
      {
        id: "c-1",
        kind: "client",
        name: "Dana Whitfield",
        detail: "WHITDA-01",
        open_url: "https://ams.example/clients/c-1",
      },
    ],
  },
  sms_opted_out: false,
  created_at: "2026-12-04T09:00:00Z",
};

function connected(): MemoryBackend {
  const backend = new MemoryBackend();
  backend.state = { relay: "https://relay.example", insecure_relay: false, status: { state: "connected" }, second_factor_due: false };
  return backend;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("onboarding", () => {
  it("sets up the second factor the org requires: QR and secret, code, recovery codes kept once", async () => {
    const backend = connected();
    backend.state = { ...backend.state, status: { state: "second_factor_required" }, second_factor_due: true };
    const root = render(backend);
    await settle();
    expect(root.querySelector("#status-text")?.textContent).toBe("Set up two-step sign-in to receive calls");
    expect(root.querySelector("#pops-empty"), "no pops before the second factor").toBeNull();

    root.querySelector<HTMLButtonElement>("#totp-start")?.click();
    await settle();
    expect(root.querySelector("#totp-secret")?.textContent).toBe("JBSW Y3DP EHPK 3PXP");
    expect(root.querySelector<HTMLImageElement>("#totp-qr")?.src).toMatch(/^data:image\/svg\+xml/);

    type(root, "#totp-code", "492039");
    submit(root, "#totp-form");
    await settle();
    expect(backend.sent.at(-1)).toEqual({ kind: "confirm_totp", code: "492039" });
    const shown = [...root.querySelectorAll("#recovery-codes code")].map((c) => c.textContent);
    expect(shown).toEqual(["ab12-cd34", "ef56-gh78"]);
    const done = root.querySelector<HTMLButtonElement>("#codes-done");
    expect(done?.disabled, "not before the user says they kept them").toBe(true);
    root.querySelector<HTMLInputElement>("#codes-kept")?.click();
    flushSync();
    done?.click();
    flushSync();
    expect(root.querySelector("#recovery-codes"), "shown once").toBeNull();
    expect(root.querySelector("#pops-empty")).not.toBeNull();
  });

  it("says a wrong code plainly and lets the user try again", async () => {
    const backend = connected();
    backend.state = { ...backend.state, second_factor_due: true };
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#totp-start")?.click();
    await settle();
    backend.failure = new BackendError("invalid_second_factor", "the code is not valid");
    type(root, "#totp-code", "000000");
    submit(root, "#totp-form");
    await settle();
    expect(root.querySelector("#totp-error")?.textContent).toContain("That code is not right");
    expect(root.querySelector("#totp-form"), "the form stays").not.toBeNull();
  });

  it("asks for the relay, then the invitation, then shows the pops once connected", async () => {
    const backend = new MemoryBackend();
    const root = render(backend);
    await settle();
    expect(root.querySelector("#relay-form"), "no relay yet: ask for one").not.toBeNull();

    type(root, "#relay-url", "http://127.0.0.1:8640");
    submit(root, "#relay-form");
    await settle();
    expect(backend.sent[0]).toEqual({ kind: "choose_relay", url: "http://127.0.0.1:8640" });
    expect(root.querySelector("#insecure-relay"), "plain http is flagged").not.toBeNull();

    type(root, "#join-code", "rsi_code");
    type(root, "#join-name", "Alice Agent");
    type(root, "#join-password", "a long enough password");
    submit(root, "#join-form");
    await settle();
    expect(backend.sent[1]).toEqual({
      kind: "accept_invitation",
      code: "rsi_code",
      displayName: "Alice Agent",
    });
    expect(root.querySelector("#status")?.getAttribute("data-state")).toBe("connecting");
    backend.push({ status: { state: "connected" } });
    flushSync();
    expect(root.querySelector("#status-text")?.textContent).toBe("Connected");
    expect(root.querySelector("#pops-empty"), "signed in: the pops screen").not.toBeNull();
  });

  it("says why a sign-in was refused, in words, and asks for the second factor when needed", async () => {
    const backend = new MemoryBackend();
    backend.state.relay = "https://relay.example";
    backend.signInStep = "second_factor";
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#to-sign-in")?.click();
    flushSync();
    type(root, "#sign-in-email", "alice@agency.example");
    type(root, "#sign-in-password", "a long enough password");
    submit(root, "#sign-in-form");
    await settle();
    expect(root.querySelector("#code-form"), "the code is asked for").not.toBeNull();

    backend.failure = new BackendError("invalid_second_factor", "invalid second factor");
    type(root, "#code", "000000");
    submit(root, "#code-form");
    await settle();
    expect(root.querySelector("#sign-in-error")?.textContent).toContain("That code is not right");
  });

  it("shows an admin's sign-out with its reason", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    backend.push({ status: { state: "revoked", reason: "user_disabled" } });
    flushSync();
    expect(root.querySelector("#revoked")?.textContent).toContain("an admin disabled your account");
    await settle();
    expect(root.querySelector("#sign-in-form"), "back to signing in, not joining").not.toBeNull();
  });
});

describe("a pop", () => {
  it("shows the caller and the matched client, and closing it sends the note and the dismissal", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    backend.push({ board: { cards: [CARD], collapsed: 0, missed: [], paused: false } });
    flushSync();
    const pop = root.querySelector<HTMLElement>("[data-testid=pop]");
    expect(pop?.querySelector("[data-testid=pop-number]")?.textContent).toBe("(617) 555-0199");
    expect(pop?.querySelector("[data-testid=pop-client]")?.textContent).toBe("Dana Whitfield");
    expect(pop?.textContent).toContain("Client · WHITDA-01");
    pop?.querySelector<HTMLButtonElement>("[data-testid=pop-open]")?.click();
    await settle();
    expect(backend.sent.shift(), "the record opens through Rust, not a webview link").toEqual({
      kind: "open_record",
      url: "https://ams.example/clients/c-1",
    });

    type(root, "[data-testid=pop-note]", "Wants to add a driver");
    pop?.querySelector<HTMLButtonElement>("[data-testid=pop-dismiss]")?.click();
    await settle();
    expect(backend.sent).toEqual([
      { kind: "note", popId: CARD.pop_id, text: "Wants to add a driver" },
      { kind: "dismiss", popId: CARD.pop_id },
    ]);
  });

  it("sends the note after a pause in typing, once", async () => {
    vi.useFakeTimers();
    const backend = connected();
    const root = render(backend);
    await vi.runOnlyPendingTimersAsync();
    backend.push({ board: { cards: [CARD], collapsed: 0, missed: [], paused: false } });
    flushSync();
    type(root, "[data-testid=pop-note]", "Call back");
    type(root, "[data-testid=pop-note]", "Call back Friday");
    expect(backend.sent, "not while typing").toEqual([]);
    await vi.advanceTimersByTimeAsync(900);
    root.querySelector<HTMLTextAreaElement>("[data-testid=pop-note]")?.dispatchEvent(new Event("blur"));
    expect(backend.sent).toEqual([{ kind: "note", popId: CARD.pop_id, text: "Call back Friday" }]);
  });

  it("with several matches shows a picker, and the choice is sent", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    const several: PopCard = {
      ...CARD,
      match: {
        status: "found",
        contacts: [
          { id: "c-1", kind: "client", name: "Dana Whitfield" },
          { id: "c-2", kind: "client", name: "Sam Whitfield", detail: "Home policy" },
        ],
      },
    };
    backend.push({ board: { cards: [several], collapsed: 2, missed: [], paused: false } });
    flushSync();
    const picker = root.querySelector("[data-testid=pop-picker]");
    expect(picker?.textContent).toContain("2 clients share this number");
    const second = picker?.querySelectorAll<HTMLInputElement>("input[type=radio]")[1];
    expect(second?.checked, "none picked silently").toBe(false);
    second?.click();
    await settle();
    expect(backend.sent).toEqual([{ kind: "pick", popId: CARD.pop_id, contact: "c-2" }]);
    expect(root.querySelector("#pops-collapsed")?.textContent).toBe("+2 more ringing");
  });

  it("lists missed calls and marks them seen", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    backend.push({
      board: {
        cards: [],
        collapsed: 0,
        missed: [{ call_id: CARD.call_id, number: "***-***-0199", at: CARD.created_at, seen: false }],
        paused: false,
      },
    });
    flushSync();
    expect(root.querySelector("#missed-heading")?.textContent).toContain("1");
    root.querySelector<HTMLButtonElement>("#missed-seen")?.click();
    await settle();
    expect(backend.sent).toEqual([{ kind: "mark_missed_seen" }]);
  });
});

describe("the history", () => {
  it("lists the agent's calls with where each note stands", async () => {
    const backend = connected();
    backend.calls = {
      calls: [
        {
          call_id: CARD.call_id,
          kind: "call",
          direction: "inbound",
          state: "ended",
          answered: true,
          number: "***-***-0199",
          sync: "in_ams",
          started_at: CARD.created_at,
        },
      ],
    };
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-history")?.click();
    await settle();
    const row = root.querySelector("[data-testid=history-row]");
    expect(row?.textContent).toContain("***-***-0199");
    expect(row?.textContent).toContain("In the AMS");
    root.querySelector<HTMLButtonElement>("#show-pops")?.click();
    flushSync();
    expect(root.querySelector("#pops-empty"), "back to the pops").not.toBeNull();
  });

  it("shows the agent's own notes that are not in the AMS yet, and says when none wait", async () => {
    const backend = connected();
    backend.notes = {
      notes: [
        {
          note_id: "not_1",
          call_id: CARD.call_id,
          text: "Wants a quote\nfor the boat",
          number: "(617) 555-0199",
          sync: "failed",
          created_at: CARD.created_at,
        },
      ],
    };
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-history")?.click();
    await settle();
    const row = root.querySelector("[data-testid=note-row]");
    expect(row?.querySelector(".note-text")?.textContent).toBe("Wants a quote\nfor the boat");
    expect(row?.textContent).toContain("(617) 555-0199");
    expect(row?.textContent).toContain("Not written — your admin sees it");
    expect(root.querySelector("#notes-empty")).toBeNull();

    backend.notes = { notes: [] };
    root.querySelector<HTMLButtonElement>("#show-pops")?.click();
    flushSync();
    root.querySelector<HTMLButtonElement>("#show-history")?.click();
    await settle();
    expect(root.querySelector("[data-testid=note-row]")).toBeNull();
    expect(root.querySelector("#notes-empty")?.textContent).toContain("every note you wrote is in the AMS");
  });
});

describe("settings", () => {
  it("keeps the agent's choices about pops and refuses a cap out of range", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-settings")?.click();
    flushSync();
    expect(root.querySelector<HTMLInputElement>("#pop-on-ring")?.checked).toBe(true);
    root.querySelector<HTMLInputElement>("#pop-on-answer")?.click();
    root.querySelector<HTMLInputElement>("#close-on-hang-up")?.click();
    root.querySelector<HTMLInputElement>("#pop-sound")?.click();
    const cap = root.querySelector<HTMLSelectElement>("#pop-cap");
    if (cap === null) throw new Error("no cap");
    cap.value = "5";
    cap.dispatchEvent(new Event("change", { bubbles: true }));
    flushSync();
    submit(root, "#settings-form");
    await settle();
    expect(backend.sent.at(-1)).toEqual({
      kind: "set_settings",
      settings: { cap: 5, pop_on: "answer", close_on_hang_up: true, sound: false, notifications: true },
    });
    expect(root.querySelector("#settings-saved")).not.toBeNull();

    backend.failure = new BackendError("invalid_input", "show between 1 and 10 pops at once");
    submit(root, "#settings-form");
    await settle();
    expect(root.querySelector("#settings-error")?.textContent).toContain("between 1 and 10");
    expect(backend.popSettings.cap, "a refused change changes nothing").toBe(5);
  });
});

describe("the team view", () => {
  it("ranks colleagues as the relay counted them, marks the agent, and asks again for another range", async () => {
    const backend = connected();
    backend.team = {
      days: 7,
      entries: [
        { user_id: "usr_a", display_name: "Alice Agent", answered: 12, missed: 1, notes_in_ams: 12, average_call_secs: 185, me: false },
        { user_id: "usr_b", display_name: "Bob Agent", answered: 3, missed: 0, notes_in_ams: 2, me: true },
      ],
    };
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-team")?.click();
    await settle();
    const rows = [...root.querySelectorAll("[data-testid=team-row]")].map((r) =>
      [...r.querySelectorAll("td")].map((c) => c.textContent),
    );
    expect(rows).toEqual([
      ["1", "Alice Agent", "12", "1", "12", "3:05"],
      ["2", "Bob Agent (you)", "3", "0", "2", "—"],
    ]);
    const range = root.querySelector<HTMLSelectElement>("#team-days");
    if (range === null) throw new Error("no range");
    range.value = "30";
    range.dispatchEvent(new Event("change", { bubbles: true }));
    await settle();
    expect(backend.sent.filter((s) => s.kind === "leaderboard")).toEqual([
      { kind: "leaderboard", days: 7 },
      { kind: "leaderboard", days: 30 },
    ]);
    expect(root.querySelector("[aria-current=true]")?.textContent).toContain("Bob Agent");
  });
});

describe("pausing pops", () => {
  it("hides pops while paused, says how many wait, and resumes", async () => {
    const backend = connected();
    backend.current = { cards: [CARD], collapsed: 0, missed: [], paused: false };
    const root = render(backend);
    await settle();
    expect(root.querySelector("[data-testid=pop]")).not.toBeNull();
    root.querySelector<HTMLButtonElement>("#pause-pops")?.click();
    await settle();
    expect(backend.sent.at(-1)).toEqual({ kind: "set_paused", paused: true });
    backend.push({ board: { cards: [], collapsed: 2, missed: [], paused: true } });
    flushSync();
    expect(root.querySelector("[data-testid=pop]"), "no pop while paused").toBeNull();
    expect(root.querySelector("#pops-paused")?.textContent).toContain("2 waiting");
    root.querySelector<HTMLButtonElement>("#resume-pops")?.click();
    await settle();
    expect(backend.sent.at(-1)).toEqual({ kind: "set_paused", paused: false });
  });

  it("starts with the computer when the agent asks", async () => {
    const backend = connected();
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-settings")?.click();
    await settle();
    const box = root.querySelector<HTMLInputElement>("#autostart");
    expect(box?.checked).toBe(false);
    box?.click();
    await settle();
    expect(backend.sent.at(-1)).toEqual({ kind: "set_autostart", enabled: true });
    expect(backend.starts).toBe(true);
  });
});


describe("a change that needs a fresh second factor", () => {
  function fill(root: HTMLElement, css: string, value: string): void {
    const input = root.querySelector<HTMLInputElement>(css);
    if (input === null) throw new Error(`no ${css}`);
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    flushSync();
  }

  async function newAuthenticator(backend: MemoryBackend): Promise<HTMLElement> {
    const root = render(backend);
    await settle();
    root.querySelector<HTMLButtonElement>("#show-settings")?.click();
    flushSync();
    root.querySelector<HTMLButtonElement>("#new-authenticator")?.click();
    flushSync();
    root.querySelector<HTMLButtonElement>("#totp-start")?.click();
    await settle();
    return root;
  }

  it("asks for a code, refuses a wrong one, and goes on with the change once it is right", async () => {
    const backend = connected();
    backend.stepUpNeeded = true;
    const root = await newAuthenticator(backend);
    expect(root.querySelector("#step-up-form"), "the prompt").not.toBeNull();
    expect(root.querySelector("#totp-qr"), "nothing changed yet").toBeNull();

    fill(root, "#step-up-code", "000000");
    submit(root, "#step-up-form");
    await settle();
    expect(root.querySelector("#step-up-error")?.textContent).toContain("not right");
    expect(root.querySelector("#step-up-form"), "still asking").not.toBeNull();

    fill(root, "#step-up-code", "123 456");
    submit(root, "#step-up-form");
    await settle();
    expect(root.querySelector("#step-up-form"), "the prompt is gone").toBeNull();
    expect(root.querySelector("#totp-qr"), "the new authenticator's QR code").not.toBeNull();
    expect(backend.sent.filter((s) => s.kind === "start_totp" || s.kind === "step_up")).toEqual([
      { kind: "start_totp" },
      { kind: "step_up", code: "000000" },
      { kind: "step_up", code: "123 456" },
      { kind: "start_totp" },
    ]);
  });

  it("drops the change on cancel and keeps the current authenticator", async () => {
    const backend = connected();
    backend.stepUpNeeded = true;
    const root = await newAuthenticator(backend);
    root.querySelector<HTMLButtonElement>("#step-up-cancel")?.click();
    await settle();
    expect(root.querySelector("#step-up-form")).toBeNull();
    expect(root.querySelector("#totp-error")?.textContent).toContain("nothing was changed");
    expect(backend.sent.filter((s) => s.kind === "start_totp")).toHaveLength(1);
    root.querySelector<HTMLButtonElement>("#totp-cancel")?.click();
    flushSync();
    expect(root.querySelector("#settings-form"), "back where it started").not.toBeNull();
  });
});
