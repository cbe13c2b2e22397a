/**
 * Numbers as trainers print them: plain, scientific (`1e-05`, `2.5E+3`), and the spellings of
 * non-finite values from Python, NumPy and JavaScript. Katib's default regex loses exponents
 * (kubeflow/katib#1702); this does not.
 */
// One way to match each text: `\d+\.?\d*` could split a run of digits anywhere, which made a
// long non-number quadratic to reject.
export const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE: Record<string, number> = {
  nan: NaN,
  '-nan': NaN,
  '+nan': NaN,
  inf: Infinity,
  '+inf': Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-inf': -Infinity,
  '-infinity': -Infinity,
};

/** The value of a printed number, or undefined when the text is not a number. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (NUMBER.test(t)) return Number(t);
  const special = NON_FINITE[t.toLowerCase()];
  return special;
}
