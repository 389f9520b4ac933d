import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { EventQueue, PRIORITY_NORMAL, PRIORITY_URGENT } from "../../src/engine/event_queue.ts";
import { Rng } from "../../src/engine/rng.ts";

/** Drains a queue, recording (time, label) pairs in the order the events come out. */
function drain(queue: EventQueue, labels: Map<number, string>): [number, string][] {
  const out: [number, string][] = [];
  while (queue.size > 0) {
    const time = queue.peekTime();
    const key = queue.topKey();
    queue.takeTop().wake(key);
    queue.settle();
    out.push([time, labels.get(key)!]);
  }
  return out;
}

Deno.test("event queue orders by time, then priority, then insertion (FIFO)", () => {
  const queue = new EventQueue();
  const labels = new Map<number, string>();
  const target = { wake() {} };
  const slot = queue.register(target);
  const add = (time: number, priority: number, label: string) =>
    labels.set(queue.pushSlot(time, priority, slot), label);
  add(10, PRIORITY_NORMAL, "t10-a");
  add(5, PRIORITY_NORMAL, "t5-a");
  add(10, PRIORITY_NORMAL, "t10-b");
  add(10, PRIORITY_URGENT, "t10-urgent");
  add(5, PRIORITY_NORMAL, "t5-b");
  add(0, PRIORITY_NORMAL, "t0");
  add(10, PRIORITY_NORMAL, "t10-c");
  deepStrictEqual(drain(queue, labels), [
    [0, "t0"],
    [5, "t5-a"],
    [5, "t5-b"],
    [10, "t10-urgent"],
    [10, "t10-a"],
    [10, "t10-b"],
    [10, "t10-c"],
  ]);
});

Deno.test("event queue matches a sorted reference under random pushes and root reuse", () => {
  const rng = new Rng(1, 2, 3, 4);
  const queue = new EventQueue();
  const slot = queue.register({ wake() {} });
  // Reference: every entry with its full sort key; pop order must equal sorted order.
  type Entry = { time: number; priority: number; seq: number };
  let reference: Entry[] = [];
  let seq = 0;
  let now = 0;
  const popped: Entry[] = [];
  const expected: Entry[] = [];
  const byKey = new Map<number, Entry>();
  const push = (time: number, priority: number) => {
    const entry = { time, priority, seq: seq++ };
    byKey.set(queue.pushSlot(time, priority, slot), entry);
    reference.push(entry);
  };
  for (let i = 0; i < 300; i++) push(rng.int(0, 50), rng.int(0, 1));
  for (let step = 0; step < 5000 && queue.size > 0; step++) {
    reference.sort((a, b) => a.time - b.time || a.priority - b.priority || a.seq - b.seq);
    expected.push(reference.shift()!);
    now = queue.peekTime();
    const key = queue.topKey();
    queue.takeTop();
    popped.push(byKey.get(key)!);
    // Schedule 0–2 follow-ups (the first reuses the root slot), with many equal times.
    const followUps = rng.int(0, 2);
    for (let k = 0; k < followUps; k++) push(now + rng.int(0, 20), rng.int(0, 1));
    queue.settle();
  }
  deepStrictEqual(popped, expected);
  reference = [];
});

Deno.test("event queue grows past its initial capacity", () => {
  const queue = new EventQueue();
  const slot = queue.register({ wake() {} });
  for (let i = 5000; i > 0; i--) queue.pushSlot(i, PRIORITY_NORMAL, slot);
  let last = -1;
  let count = 0;
  while (queue.size > 0) {
    const time = queue.peekTime();
    strictEqual(time > last, true);
    last = time;
    queue.takeTop();
    queue.settle();
    count++;
  }
  strictEqual(count, 5000);
  strictEqual(queue.peekTime(), Infinity);
});

Deno.test("stale entries are dropped once they are half the queue, and the order holds", () => {
  const queue = new EventQueue();
  // 100 targets, each waiting for its latest entry only (as a process or a timer does).
  const current = new Map<number, number>();
  const labels = new Map<number, string>();
  const slots = Array.from({ length: 100 }, (_, i) =>
    queue.register({
      wake() {},
      pending: (key) => current.get(i) === key,
    }));
  const push = (i: number, time: number) => {
    if (current.has(i)) queue.noteStale();
    const key = queue.pushSlot(time, PRIORITY_NORMAL, slots[i]);
    current.set(i, key);
    labels.set(key, `${i}@${time}`);
  };
  for (let i = 0; i < 100; i++) push(i, 1000 + i); // far in the future, like a halt-poll's end
  for (let i = 0; i < 60; i++) push(i, 10 + i); // cut short: 60 stale entries left behind
  strictEqual(queue.size, 160);
  queue.settle(); // a safe point, but 60 stale of 160 are not yet half
  strictEqual(queue.size, 160);
  for (let i = 60; i < 100; i++) push(i, 10 + i); // 100 stale of 200
  for (let i = 0; i < 10; i++) push(i, 5 + i); // 110 stale of 210: over half
  queue.settle();
  strictEqual(queue.size, 100, "the stale entries are gone");
  const out = drain(queue, labels).map(([, label]) => label);
  deepStrictEqual(out, [
    ...Array.from({ length: 10 }, (_, i) => `${i}@${5 + i}`),
    ...Array.from({ length: 90 }, (_, i) => `${10 + i}@${20 + i}`),
  ]);
});
