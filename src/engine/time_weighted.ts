/**
 * A time-weighted level (busy servers, queue length): integrates value × time so that
 * means over a span come out exact.
 *
 * @module
 */

/** Tracks a level that changes at discrete times. */
export class TimeWeighted {
  #value = 0;
  #since = 0;
  #integral = 0;
  #max = 0;

  /** Current level. */
  get value(): number {
    return this.#value;
  }

  /** Highest level seen. */
  get max(): number {
    return this.#max;
  }

  /** Sets the level at `nowCycles` (times must not go backwards). */
  set(nowCycles: number, value: number): void {
    this.#integral += this.#value * (nowCycles - this.#since);
    this.#since = nowCycles;
    this.#value = value;
    if (value > this.#max) this.#max = value;
  }

  /** ∫ level dt from 0 to `nowCycles`. */
  integral(nowCycles: number): number {
    return this.#integral + this.#value * (nowCycles - this.#since);
  }

  /** Mean level over [0, `nowCycles`]. */
  mean(nowCycles: number): number {
    return nowCycles > 0 ? this.integral(nowCycles) / nowCycles : 0;
  }
}
