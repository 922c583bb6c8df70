/**
 * How the app's states read to an agent: pure functions over the generated wire types, so the
 * wording is tested once and every component says the same thing.
 */
import type { CallState } from "../generated/CallState";
import type { ConnectionStatus } from "../generated/ConnectionStatus";
import type { MatchState } from "../generated/MatchState";
import type { MyCall } from "../generated/MyCall";
import type { RecordKind } from "../generated/RecordKind";

/** The always-visible line about the connection. */
export function statusText(status: ConnectionStatus): string {
  switch (status.state) {
    case "connected":
      return "Connected";
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return `Reconnecting in ${status.in_secs} s`;
    case "unreachable":
      return "Relay unreachable — retrying";
    case "second_factor_required":
      return "Set up two-step sign-in to receive calls";
    case "revoked":
      return `Signed out: ${revokedText(status.reason)}`;
    case "signed_out":
      return "Signed out";
  }
}

/** Why the relay ended the session (`session_revoked`'s reason), for people. */
export function revokedText(reason: string): string {
  switch (reason) {
    case "user_disabled":
      return "an admin disabled your account";
    case "revoked_by_admin":
      return "an admin ended your session";
    case "revoked_by_user":
      return "you ended this session from another device";
    case "credentials_changed":
      return "your password or second factor changed";
    case "refresh_reuse":
      return "your sign-in was used from somewhere else, so it was ended to be safe";
    case "expired":
      return "your session reached its time limit";
    default:
      return "by an admin or on another device";
  }
}

/** The dot's colour next to the status line: `idle` before anyone signed in. */
export function statusTone(status: ConnectionStatus): "ok" | "busy" | "bad" | "idle" {
  switch (status.state) {
    case "connected":
      return "ok";
    case "connecting":
    case "reconnecting":
    case "second_factor_required":
      return "busy";
    case "signed_out":
      return "idle";
    default:
      return "bad";
  }
}

/** The call's state, for people. */
export function callStateText(state: CallState): string {
  switch (state) {
    case "ringing":
      return "Ringing";
    case "answered":
      return "On call";
    case "transferred":
      return "Transferred";
    case "ended":
      return "Ended";
    case "missed":
      return "Missed";
    case "voicemail":
      return "Voicemail";
  }
}

/** An AMS record's kind, for people. */
export function recordKindText(kind: RecordKind): string {
  switch (kind) {
    case "client":
      return "Client";
    case "prospect":
      return "Prospect";
    case "contact":
      return "Contact";
  }
}

/** One line about the AMS match when it is not a list of records. */
export function matchText(match: MatchState): string | null {
  switch (match.status) {
    case "pending":
      return "Looking up in the AMS…";
    case "unavailable":
      return "No AMS lookup for this call";
    case "no_match":
      return "No client with this number";
    case "failed":
      return "AMS unavailable — check the number yourself";
    case "found":
      return null;
  }
}

/** A history row's call: what it was and which way, for people. */
export function callLabel(call: MyCall): string {
  const way = call.direction === "outbound" ? "outgoing" : "incoming";
  if (call.kind === "sms") {
    return `Text, ${way}`;
  }
  const what = call.answered ? "Answered" : callStateText(call.state as CallState);
  return `${what}, ${way}`;
}

/** Where a call's note stands, for people. */
export function syncText(sync: string | undefined): string {
  switch (sync) {
    case undefined:
      return "Call in progress";
    case "waiting":
      return "Waiting for the AMS";
    case "in_ams":
      return "In the AMS";
    case "failed":
      return "Not written — your admin sees it";
    case "skipped":
      return "No client to note it on";
    case "expired":
      return "Expired unwritten";
    default:
      return sync;
  }
}

// The formatters are made once: `toLocaleTimeString(…, options)` builds a new ICU formatter on
// every call, and a board update re-renders every missed call's time. In WebKitGTK those
// formatters' native memory is freed only when the garbage collector gets to them, and it
// fragments the web process's heap: about 1.5 MiB more per call (docs/desktop.md, Memory).
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The time of day of `at` (RFC 3339) in the user's locale (`14:05`, `2:05 PM`). */
export function clockTime(at: string): string {
  return clockFormat.format(Date.parse(at));
}

/** The date and time of `at` (RFC 3339) in the user's locale (`Dec 4, 2026, 2:05 PM`). */
export function dateTime(at: string): string {
  return dateTimeFormat.format(Date.parse(at));
}

/** `m:ss` since `from` (RFC 3339), as of `now` (ms). */
export function elapsed(from: string, now: number): string {
  return durationText(Math.floor((now - Date.parse(from)) / 1000));
}

/** `m:ss` for a number of seconds (never negative). */
export function durationText(seconds: number): string {
  const secs = Math.max(0, Math.floor(seconds));
  return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
}
