/**
 * A binary min-heap of future events ordered by (time, priority, sequence).
 *
 * The sequence number makes same-time, same-priority events run in the order they were
 * scheduled (FIFO), which is what makes runs deterministic. Entries live in parallel typed
 * arrays — time, tie-break key and the target's slot number — so scheduling allocates
 * nothing once the arrays have grown, and moving entries needs no pointer write barriers.
 *
 * The simulator "takes" the top event before waking its target; the first event scheduled
 * while the top is taken reuses the root slot (one sift-down instead of a pop plus a push).
 * Most steps schedule exactly one follow-up event, so this halves the heap work.
 *
 * @module
 */

/** Something the simulator can wake: a process or a scheduled callback. */
export interface Wakeable {
  /**
   * Called at the scheduled time with the entry's key (the value {@linkcode EventQueue.push}
   * returned); a target uses it to ignore entries it has cancelled.
   */
  wake(entryKey: number): void;
  /**
   * True while the entry with this key is the one the target still waits for (false for
   * an entry it replaced or cancelled: a stale entry, which {@linkcode EventQueue.noteStale}
   * counts and a compaction drops).
   */
  pending?(entryKey: number): boolean;
}

/** Priority of events that resume a process after a resource or signal fired. */
export const PRIORITY_URGENT = 0;
/** Priority of ordinary timeouts. */
export const PRIORITY_NORMAL = 1;

const PRIORITY_SCALE = 2 ** 40;
const FREED: Wakeable = { wake() {}, pending: () => false };
/** Stale entries drop out once they reach this share of the queue (and it is this long). */
const COMPACT_MIN_SIZE = 64;
const INITIAL_CAPACITY = 1024;

/** The future-event list. */
export class EventQueue {
  /** Times; every slot at or beyond `#size` holds +Infinity (a sentinel for sift-down). */
  #times = new Float64Array(INITIAL_CAPACITY + 1).fill(Infinity);
  #ties = new Float64Array(INITIAL_CAPACITY);
  #slots = new Int32Array(INITIAL_CAPACITY);
  /** Targets by slot; long-lived targets (processes) keep a slot, one-shot ones free it. */
  #targets: Wakeable[] = [];
  #freeSlots: number[] = [];
  #size = 0;
  #sequence = 0;
  #topTaken = false;
  /** Entries made stale since the last compaction (an estimate: some have popped since). */
  #stale = 0;

  /** Number of pending events (a taken top counts until it is settled). */
  get size(): number {
    return this.#size;
  }

  /** Time of the earliest event; `Infinity` when empty. */
  peekTime(): number {
    return this.#size > 0 ? this.#times[0] : Infinity;
  }

  /** Key of the earliest event (read before {@linkcode takeTop}'s target runs). */
  topKey(): number {
    return this.#ties[0];
  }

  /**
   * Marks the earliest event as being processed and returns its target. The caller must
   * call {@linkcode settle} once the target has run.
   */
  takeTop(): Wakeable {
    this.#topTaken = true;
    return this.#targets[this.#slots[0]];
  }

  /** Removes the taken top event unless a newer event already reused its slot. */
  settle(): void {
    if (this.#topTaken) {
      this.#topTaken = false;
      const last = --this.#size;
      const times = this.#times;
      const time = times[last];
      times[last] = Infinity; // keep the sentinel invariant before sifting
      if (last > 0) this.#siftDown(time, this.#ties[last], this.#slots[last], last);
    }
    if (this.#stale * 2 > this.#size && this.#size >= COMPACT_MIN_SIZE) this.#compact();
  }

  /**
   * A target replaced or cancelled one of its entries (a cut-short timer): the entry stays
   * until it pops, ignored, or until stale entries are half the queue and a compaction
   * drops them all (every interrupted halt-poll leaves one far in the future, and a queue
   * full of them makes every push and pop deeper).
   */
  noteStale(): void {
    this.#stale++;
  }

  /** Drops the stale entries and rebuilds the heap (same order: keys are unique). */
  #compact(): void {
    this.#stale = 0;
    const times = this.#times, ties = this.#ties, slots = this.#slots;
    const targets = this.#targets;
    let kept = 0;
    for (let i = 0; i < this.#size; i++) {
      if (targets[slots[i]].pending?.(ties[i]) === false) continue;
      times[kept] = times[i];
      ties[kept] = ties[i];
      slots[kept] = slots[i];
      kept++;
    }
    for (let i = kept; i < this.#size; i++) times[i] = Infinity;
    this.#size = kept;
    // Floyd's heap construction: sift down every parent, the last first.
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#siftDown(times[i], ties[i], slots[i], kept, i);
  }

  /** Gives `target` a slot number for {@linkcode pushSlot}; keep it while events may name it. */
  register(target: Wakeable): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) {
      this.#targets[free] = target;
      return free;
    }
    return this.#targets.push(target) - 1;
  }

  /**
   * Frees a slot taken by {@linkcode register}. Stale events may still name it: they wake
   * a no-op until the slot is reused, and then the new owner ignores them by key.
   */
  unregister(slot: number): void {
    this.#targets[slot] = FREED;
    this.#freeSlots.push(slot);
  }

  /**
   * Adds an event for the target in `slot` at absolute time `time` and returns its key:
   * unique among all events ever pushed, and passed back to the target's `wake()`.
   */
  pushSlot(time: number, priority: number, slot: number): number {
    const tie = priority * PRIORITY_SCALE + this.#sequence++;
    if (this.#topTaken) {
      // Reuse the slot of the event being processed: equivalent to pop + push.
      this.#topTaken = false;
      this.#siftDown(time, tie, slot, this.#size);
      return tie;
    }
    let i = this.#size++;
    if (i + 1 === this.#times.length) this.#grow();
    const times = this.#times, ties = this.#ties, slots = this.#slots;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = times[parent];
      if (parentTime < time || (parentTime === time && ties[parent] < tie)) break;
      times[i] = parentTime;
      ties[i] = ties[parent];
      slots[i] = slots[parent];
      i = parent;
    }
    times[i] = time;
    ties[i] = tie;
    slots[i] = slot;
    return tie;
  }

  /** Places an entry at index `from` (the root) and moves it down within the first `size` slots. */
  #siftDown(time: number, tie: number, slot: number, size: number, from = 0): void {
    const times = this.#times, ties = this.#ties, slots = this.#slots;
    let i = from;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      // Slots at and beyond `size` hold +Infinity, so the right child needs no bounds check,
      // and the choice is computed without a branch (it is a coin flip, so a branch would
      // mispredict half the time).
      const leftTime = times[child];
      const rightTime = times[child + 1];
      child += +(rightTime < leftTime) |
        (+(rightTime === leftTime) & +(ties[child + 1] < ties[child]));
      const childTime = times[child];
      const childTie = ties[child];
      if (time < childTime || (time === childTime && tie < childTie)) break;
      times[i] = childTime;
      ties[i] = childTie;
      slots[i] = slots[child];
      i = child;
    }
    times[i] = time;
    ties[i] = tie;
    slots[i] = slot;
  }

  #grow(): void {
    const capacity = this.#times.length * 2;
    const times = new Float64Array(capacity).fill(Infinity);
    times.set(this.#times);
    this.#times = times;
    const ties = new Float64Array(capacity);
    ties.set(this.#ties);
    this.#ties = ties;
    const slots = new Int32Array(capacity);
    slots.set(this.#slots);
    this.#slots = slots;
  }
}
