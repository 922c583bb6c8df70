// The wording of states: one place, tested, so no component invents its own.
import { describe, expect, it } from "vitest";
import {
  callLabel,
  callStateText,
  clockTime,
  dateTime,
  elapsed,
  matchText,
  recordKindText,
  statusText,
  statusTone,
  syncText,
} from "./pops";

describe("the connection's status line", () => {
  it("says what is happening and when the next attempt comes", () => {
    expect(statusText({ state: "connected" })).toBe("Connected");
    expect(statusText({ state: "reconnecting", in_secs: 4 })).toBe("Reconnecting in 4 s");
    expect(statusText({ state: "unreachable" })).toContain("unreachable");
    expect(statusText({ state: "revoked", reason: "user_disabled" })).toContain(
      "an admin disabled your account",
    );
    expect(statusText({ state: "revoked", reason: "revoked_by_admin" })).toContain(
      "an admin ended your session",
    );
    expect(statusText({ state: "revoked", reason: "something_new" }), "a reason not known yet").toContain(
      "by an admin or on another device",
    );
    expect(statusText({ state: "second_factor_required" })).toContain("two-step sign-in");
    expect(statusTone({ state: "connected" })).toBe("ok");
    expect(statusTone({ state: "reconnecting", in_secs: 1 })).toBe("busy");
    expect(statusTone({ state: "revoked", reason: "revoked" })).toBe("bad");
    expect(statusTone({ state: "signed_out" }), "not alarming before sign-in").toBe("idle");
  });
});

describe("a pop's lines", () => {
  it("name each match state and call state for people", () => {
    expect(matchText({ status: "pending" })).toContain("Looking up");
    expect(matchText({ status: "no_match" })).toBe("No client with this number");
    expect(matchText({ status: "failed", reason: "timeout" })).toContain("AMS unavailable");
    expect(matchText({ status: "found", contacts: [] }), "records are shown, not a line").toBe(
      null,
    );
    expect(callStateText("answered")).toBe("On call");
    expect(recordKindText("prospect")).toBe("Prospect");
    expect(syncText("in_ams")).toBe("In the AMS");
    const call = {
      call_id: "cal_1",
      kind: "call",
      direction: "inbound",
      state: "missed",
      answered: false,
      started_at: "2026-12-04T09:00:00Z",
    };
    expect(callLabel(call)).toBe("Missed, incoming");
    expect(callLabel({ ...call, kind: "sms", direction: "outbound" })).toBe("Text, outgoing");
    expect(syncText("failed")).toContain("admin");
  });

  it("times the call in minutes and seconds", () => {
    const from = "2026-12-04T09:00:00Z";
    expect(elapsed(from, Date.parse(from) + 65_000)).toBe("1:05");
    expect(elapsed(from, Date.parse(from) - 5_000), "never negative").toBe("0:00");
  });
});

describe("times of day", () => {
  it("read in the user's locale, from one formatter each", () => {
    const at = "2026-12-04T14:05:00Z";
    const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
    expect(clockTime(at)).toBe(clock.format(new Date(at)));
    expect(dateTime(at)).toContain(String(new Date(at).getFullYear()));
  });

  it("are never formatted with a throwaway formatter in a component", () => {
    // `toLocale…String(…, options)` makes a new ICU formatter per call; a board update
    // re-renders every missed call, and in WebKitGTK that churn grew the web process by
    // ~1.5 MiB a call (docs/desktop.md, Memory). Components use `clockTime`/`dateTime`.
    const sources = import.meta.glob<string>("./components/*.svelte", {
      query: "?raw",
      import: "default",
      eager: true,
    });
    expect(Object.keys(sources).length, "the components were read").toBeGreaterThan(5);
    const offenders = Object.entries(sources)
      .filter(([, source]) => /toLocale(Date|Time)?String\(/.test(source))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
