/**
 * Seeded pseudo-random numbers with independent named streams.
 *
 * The generator is SFC32 (Chris Doty-Humphrey's small fast counting generator, 128 bits of
 * state, passes PractRand), seeded through SplitMix32 from the run seed and an FNV-1a hash
 * of the stream name. Giving each consumer its own named stream means adding a consumer
 * never shifts the numbers another one sees, so results stay comparable across designs.
 *
 * @example
 * ```ts
 * const streams = new RngStreams(42);
 * const arrivals = streams.stream("vm0/vcpu0/arrivals");
 * const gapCycles = arrivals.exponentialInt(1000);
 * ```
 *
 * @module
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** One stream of pseudo-random numbers. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the stream from four 32-bit words (use {@linkcode RngStreams} instead). */
  constructor(a: number, b: number, c: number, d: number) {
    this.#a = a >>> 0;
    this.#b = b >>> 0;
    this.#c = c >>> 0;
    this.#d = d >>> 0;
    // Discard the first outputs so similar seeds diverge.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const rotated = (c << 21) | (c >>> 11);
    this.#c = (rotated + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / TWO_POW_53;
  }

  /** An integer uniformly drawn from [min, max] (both inclusive). */
  int(min: number, max: number): number {
    const range = max - min + 1;
    // One 32-bit draw suffices for ranges up to 2^32 (bias below range / 2^32).
    if (range <= TWO_POW_32) return min + Math.floor((this.nextUint32() / TWO_POW_32) * range);
    return min + Math.floor(this.float() * range);
  }

  /** An exponentially distributed float with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** An exponentially distributed integer (rounded) with the given mean; never negative. */
  exponentialInt(mean: number): number {
    return Math.round(this.exponential(mean));
  }

  /**
   * A log-normally distributed integer with the given median and 99th percentile (p99 ≥
   * median), for latencies with a tail: median × e^(σz), z standard normal (Box-Muller).
   */
  logNormalInt(median: number, p99: number): number {
    if (!(p99 > median)) return Math.round(median);
    const sigma = Math.log(p99 / median) / Z_99;
    const z = Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float());
    return Math.round(median * Math.exp(sigma * z));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }
}

/** The standard normal distribution's 99th percentile. */
const Z_99 = 2.3263478740408408;

/** Derives independent {@linkcode Rng} streams from one run seed. */
export class RngStreams {
  readonly seed: number;

  /** @param seed a non-negative integer below 2^53 */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Cannot seed random streams with ${seed}: expected a safe integer ≥ 0`);
    }
    this.seed = seed;
  }

  /** A fresh stream for `name`; the same name always yields the same sequence. */
  stream(name: string): Rng {
    let state = (fnv1a(name) ^ (this.seed >>> 0)) >>> 0;
    // Fold in the high bits of seeds above 2^32.
    state = (state ^ Math.floor(this.seed / TWO_POW_32)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      state = (state + 0x9e3779b9) >>> 0;
      words.push(splitMix32(state));
    }
    return new Rng(words[0], words[1], words[2], words[3]);
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function splitMix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
