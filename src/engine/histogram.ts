/**
 * A log-linear latency histogram for non-negative integers (cycles), in the spirit of
 * HdrHistogram: values below 64 are counted exactly; above, each power of two is split
 * into 64 linear buckets, so a reported percentile is within 1/64 (1.6 %) of the true
 * sample value. Memory is fixed (3136 counters) whatever the number of samples.
 *
 * @example
 * ```ts
 * const h = new Histogram();
 * h.record(1027);
 * h.percentile(99); // 1027
 * ```
 *
 * @module
 */

const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 64
const MAX_EXPONENT = 53;
const BUCKET_COUNT = SUB_BUCKETS + (MAX_EXPONENT - SUB_BUCKET_BITS + 1) * SUB_BUCKETS;
const TWO_POW_32 = 4294967296;

/** Summary statistics of a histogram, as reported. */
export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Fixed-size histogram of integer samples. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKET_COUNT);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Number of samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Sum of all samples. */
  get sum(): number {
    return this.#sum;
  }

  /** Smallest sample, or 0 when empty. */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  /** Largest sample, or 0 when empty. */
  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  /** Mean of the samples, or 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Adds `times` samples of `value` (a non-negative integer). */
  record(value: number, times = 1): void {
    if (!(value >= 0) || Math.floor(value) !== value) {
      throw new RangeError(`Cannot record ${value} in a histogram: expected an integer ≥ 0`);
    }
    this.#counts[bucketOf(value)] += times;
    this.#count += times;
    this.#sum += value * times;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /**
   * The smallest recorded value `v` such that at least `percent` % of samples are ≤ `v`
   * (nearest rank), reported as the highest value of its bucket, clamped to [min, max].
   */
  percentile(percent: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.#count));
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += counts[i];
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, highestValueOf(i)));
    }
    return this.#max;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: Histogram): void {
    if (other.#count === 0) return;
    for (let i = 0; i < BUCKET_COUNT; i++) this.#counts[i] += other.#counts[i];
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Count, min, mean, common percentiles and max. */
  summary(): HistogramSummary {
    return {
      count: this.#count,
      min: this.min,
      mean: this.mean,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max,
    };
  }

  /** Non-empty buckets as [lowest value, highest value, count] triples, for charts. */
  buckets(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      if (this.#counts[i] > 0) out.push([lowestValueOf(i), highestValueOf(i), this.#counts[i]]);
    }
    return out;
  }
}

function log2Floor(value: number): number {
  return value >= TWO_POW_32
    ? 32 + (31 - Math.clz32(Math.floor(value / TWO_POW_32)))
    : 31 - Math.clz32(value);
}

function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  if (value < 2147483648) {
    // The common case in 32-bit integer arithmetic (no Math.pow, no division).
    const shift = 31 - Math.clz32(value) - SUB_BUCKET_BITS;
    return SUB_BUCKETS + shift * SUB_BUCKETS + ((value >>> shift) - SUB_BUCKETS);
  }
  const exponent = log2Floor(value);
  const shift = exponent - SUB_BUCKET_BITS;
  const sub = Math.floor(value / 2 ** shift) - SUB_BUCKETS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + sub;
}

function lowestValueOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const shift = Math.floor((bucket - SUB_BUCKETS) / SUB_BUCKETS);
  const sub = (bucket - SUB_BUCKETS) % SUB_BUCKETS;
  return (SUB_BUCKETS + sub) * 2 ** shift;
}

function highestValueOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const shift = Math.floor((bucket - SUB_BUCKETS) / SUB_BUCKETS);
  return lowestValueOf(bucket) + 2 ** shift - 1;
}
