// The CRDs cap condition and trial messages at 32768 characters and reasons at 1024 (as
// metav1.Condition does); a longer one makes the apiserver reject the whole status write, which
// would leave the problem it describes invisible.
export const MAX_MESSAGE = 32768;
export const MAX_REASON = 1024;

/**
 * `text` cut to at most `max` characters (Unicode code points, as the apiserver counts), with a
 * note of how much was left out. Never splits a surrogate pair.
 */
export function fitText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  const note = (left: number) => `… (${left} more characters)`;
  // The note for all characters is at least as long as the note for those actually left out.
  const keep = Math.max(0, max - note(points.length).length);
  return points.slice(0, keep).join('') + note(points.length - keep);
}
