/**
 * The highest of the last `window` decimal values of a stream, in O(1) amortized per value
 * (a monotonic deque). Values are ordered by their numbers, and by exact decimal comparison where
 * two numbers are equal (decimal strings that differ beyond a double's precision), so the
 * maximum is the exact decimal maximum.
 */
import { dec, type DecimalString } from '../money.js';

export class RollingMax {
  /** Circular deque, decreasing from head to tail: the value's text, its number and its position. */
  readonly #text: DecimalString[];
  // Plain arrays, not typed ones: the scanner makes a fresh evaluator (and so a deque) for every
  // symbol and scan, and a typed array of more than a few values costs a separate buffer each.
  readonly #num: number[];
  readonly #at: number[];
  #head = 0;
  #size = 0;
  #pushed = 0;

  constructor(readonly window: number) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
    this.#text = new Array<DecimalString>(window);
    this.#num = [];
    this.#at = [];
  }

  /** Values pushed so far (all of them, not only the window's). */
  get pushed(): number {
    return this.#pushed;
  }

  push(value: DecimalString): void {
    const n = Number(value);
    const at = this.#pushed;
    this.#pushed = at + 1;
    const cap = this.window;
    const text = this.#text;
    const num = this.#num;
    let head = this.#head;
    let size = this.#size;
    // Values at or below the new one can never be the maximum again. (Indices wrap by one
    // subtraction: they never reach twice the capacity.)
    while (size > 0) {
      let back = head + size - 1;
      if (back >= cap) back -= cap;
      const b = num[back]!;
      if (b < n || (b === n && (text[back] === value || dec(text[back]!).lte(value)))) size -= 1;
      else break;
    }
    // The oldest leaves the window.
    if (size > 0 && this.#at[head]! <= at - cap) {
      head += 1;
      if (head === cap) head = 0;
      size -= 1;
    }
    let slot = head + size;
    if (slot >= cap) slot -= cap;
    text[slot] = value;
    num[slot] = n;
    this.#at[slot] = at;
    this.#head = head;
    this.#size = size + 1;
  }

  /** Whether nothing was pushed yet (no maximum). */
  get empty(): boolean {
    return this.#size === 0;
  }

  /** The maximum of the window as a number (NaN before the first push), without making an object. */
  maxNum(): number {
    return this.#size === 0 ? Number.NaN : this.#num[this.#head]!;
  }

  /** The maximum of the window as its text (undefined before the first push), without making an object. */
  maxText(): DecimalString | undefined {
    return this.#size === 0 ? undefined : this.#text[this.#head];
  }

  /** The maximum of the window as text and as a number; undefined before the first push. */
  max(): { readonly text: DecimalString; readonly num: number } | undefined {
    if (this.#size === 0) return undefined;
    return { text: this.#text[this.#head]!, num: this.#num[this.#head]! };
  }
}
