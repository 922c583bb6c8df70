/**
 * Step-up: the relay refuses some changes with `step_up_required` unless this session verified
 * its second factor in the last few minutes (replacing an authenticator; an admin's changes).
 * Wrapping such a call in `withStepUp` asks for a code in one prompt (`StepUpPrompt`, mounted
 * once by the app), verifies it, and runs the call again — so every screen asks the same way
 * and none has to know which calls need it.
 */
import { BackendError, toBackendError } from "./backend";

let waiting = $state<((verified: boolean) => void) | null>(null);

/** The prompt's side: whether it is open, and how it ends. */
export const stepUp = {
  get open(): boolean {
    return waiting !== null;
  },
  /** Ends the prompt: after the code was verified (`true`), or cancelled (`false`). */
  settle(verified: boolean): void {
    const resume = waiting;
    waiting = null;
    resume?.(verified);
  },
};

/** Runs `action`; if the relay asks for a step-up, asks for a code and runs it once more. */
export async function withStepUp<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    const error = toBackendError(err);
    if (error.code !== "step_up_required") throw error;
    stepUp.settle(false);
    const verified = await new Promise<boolean>((resolve) => (waiting = resolve));
    if (!verified) {
      throw new BackendError("step_up_cancelled", "Cancelled: nothing was changed.");
    }
    return await action();
  }
}
