/**
 * The pop's tone: two short notes made with Web Audio, so no sound file ships and nothing is
 * fetched. Silent where Web Audio is missing (the unit tests' jsdom) or the system refuses it.
 */
let context: AudioContext | null = null;

export function chime(): void {
  const Context = globalThis.AudioContext;
  if (Context === undefined) return;
  try {
    context ??= new Context();
    const now = context.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.16, 1320]] as const) {
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.14);
      tone.connect(gain).connect(context.destination);
      tone.start(now + offset);
      tone.stop(now + offset + 0.15);
    }
  } catch {
    // No audio device: the pop itself is the signal.
  }
}
