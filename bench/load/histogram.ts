/**
 * A mergeable latency histogram in microseconds: 64 linear sub-buckets per power of two
 * (about 1.6 % resolution), so recording is a few integer operations and histograms from
 * several worker processes add up bucket by bucket.
 *
 * @module
 */

/** Sub-buckets per power of two: the resolution of the histogram. */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Values up to 2^36 µs (about 19 hours) fit; larger ones land in the last bucket. */
const BUCKETS = SUB * (36 - SUB_BITS + 1);

/** Maps a non-negative integer value to its bucket index. */
function bucketOf(v: number): number {
  if (v < SUB) return v;
  const mag = Math.floor(Math.log2(v)); // v may exceed 2^31, so no clz32
  const idx = SUB * (mag - SUB_BITS + 1) + Math.floor(v / 2 ** (mag - SUB_BITS)) - SUB;
  return idx < BUCKETS ? idx : BUCKETS - 1;
}

/** The smallest value that falls into bucket `i`. */
function lowestOf(i: number): number {
  if (i < SUB) return i;
  const mag = Math.floor(i / SUB) + SUB_BITS - 1;
  return (SUB + (i % SUB)) * 2 ** (mag - SUB_BITS);
}

/** Serialisable form: sparse `[bucket, count]` pairs plus exact count and max. */
export interface HistogramJson {
  count: number;
  max: number;
  buckets: [number, number][];
}

/**
 * Latency histogram.
 *
 * @example
 * ```ts
 * const h = new Histogram();
 * h.record(120);
 * h.percentile(99); // ≈ 120
 * ```
 */
export class Histogram {
  counts: Float64Array = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  /** Records one latency in microseconds (negative values count as 0). */
  record(us: number): void {
    const v = us > 0 ? Math.floor(us) : 0;
    this.counts[v < SUB ? v : bucketOf(v)]++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: Histogram | HistogramJson): void {
    if (other instanceof Histogram) {
      for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    } else {
      for (const [i, c] of other.buckets) this.counts[i] += c;
    }
    this.count += other.count;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at percentile `p` (0–100), in microseconds; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(lowestOf(i), this.max);
    }
    return this.max;
  }

  /** The sparse serialisable form. */
  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { count: this.count, max: this.max, buckets };
  }
}
