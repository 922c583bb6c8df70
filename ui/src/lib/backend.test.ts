// How rejected calls become BackendErrors: the UI relies on `code` whatever the failure was.
import { describe, expect, it } from "vitest";
import { BackendError, toBackendError } from "./backend";

describe("toBackendError", () => {
  it("keeps the code and message of an error a Rust command returned", () => {
    const error = toBackendError({ code: "invalid_input", message: "phone number is empty" });

    expect(error, "the result is a BackendError").toBeInstanceOf(BackendError);
    expect(error.code, "the code from Rust is kept for the UI to switch on").toBe("invalid_input");
    expect(error.message, "the message from Rust is kept for people").toBe("phone number is empty");
  });

  it("classifies a bare string rejection as an IPC failure", () => {
    const error = toBackendError("app_info not allowed. Command not found");

    expect(error.code, "Tauri rejects ungranted commands with a string, before Rust runs").toBe(
      "ipc",
    );
    expect(error.message, "the IPC layer's text is kept").toContain("not allowed");
  });

  it("classifies a rejection of any other shape as unexpected", () => {
    expect(toBackendError(undefined).code, "undefined is not an error shape we know").toBe(
      "unexpected",
    );
    expect(
      toBackendError({ code: 7, message: "x" }).code,
      "a non-string code is not trusted",
    ).toBe("unexpected");
  });

  it("returns a BackendError unchanged", () => {
    const original = new BackendError("internal", "boom");

    expect(toBackendError(original), "no double wrapping").toBe(original);
  });
});
