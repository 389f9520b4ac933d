import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { FifoServer, Mutex, type Process, RwLock, Simulator } from "../../src/engine/mod.ts";

Deno.test("a 1-server FIFO with known arrivals gives the known waits", () => {
  // Arrivals at 0, 1, 2, 10, 50 each need 4 cycles of service. By hand:
  // job0 starts 0 (wait 0), job1 starts 4 (wait 3), job2 starts 8 (wait 6),
  // job3 starts 12 (wait 2), job4 starts 50 (wait 0). Busy 20 of 54 cycles.
  const sim = new Simulator();
  const server = new FifoServer(sim, "server", 1);
  const waits: number[] = [];
  const starts: number[] = [];
  for (const arrival of [0, 1, 2, 10, 50]) {
    sim.process(
      `job@${arrival}`,
      function* () {
        yield arrival;
        const requested = sim.now;
        yield server;
        starts.push(sim.now);
        waits.push(sim.now - requested);
        yield 4;
        server.release();
      }(),
    );
  }
  sim.run();
  deepStrictEqual(starts, [0, 4, 8, 12, 50]);
  deepStrictEqual(waits, [0, 3, 6, 2, 0]);
  const report = server.stats.report(sim.now);
  strictEqual(sim.now, 54);
  strictEqual(report.acquisitions, 5);
  strictEqual(report.contended, 3);
  strictEqual(report.totalWaitCycles, 11);
  strictEqual(report.maxQueueLength, 2);
  strictEqual(report.utilization, 20 / 54);
});

Deno.test("an N-server FIFO serves N at once and queues the rest in order", () => {
  const sim = new Simulator();
  const pcpus = new FifoServer(sim, "pcpus", 2);
  const starts: [string, number][] = [];
  for (const name of ["a", "b", "c", "d", "e"]) {
    sim.process(
      name,
      function* () {
        yield pcpus;
        starts.push([name, sim.now]);
        yield 10;
        pcpus.release();
      }(),
    );
  }
  sim.run();
  deepStrictEqual(starts, [["a", 0], ["b", 0], ["c", 10], ["d", 10], ["e", 20]]);
  strictEqual(pcpus.stats.report(sim.now).utilization, 50 / 60);
});

Deno.test("releasing a free mutex is an error naming it", () => {
  const sim = new Simulator();
  const lock = new Mutex(sim, "slots_lock");
  throws(() => lock.release(), /Cannot release slots_lock: no server is held/);
  strictEqual(lock.tryAcquire(), true);
  strictEqual(lock.tryAcquire(), false);
});

Deno.test("rwlock: readers share, writers exclude, arrivals are served in FIFO order", () => {
  const sim = new Simulator();
  const lock = new RwLock(sim, "mmu_lock");
  const log: string[] = [];
  const user = (name: string, arrive: number, mode: "read" | "write", hold: number) =>
    sim.process(
      name,
      function* () {
        yield arrive;
        yield lock[mode];
        log.push(`${name} ${mode} at ${sim.now}`);
        yield hold;
        lock[mode].release();
      }(),
    );
  user("r1", 0, "read", 10);
  user("r2", 1, "read", 10); // shares with r1
  user("w1", 2, "write", 5); // waits for both readers: 11
  user("r3", 3, "read", 1); // arrives behind a waiting writer: after w1, 16
  user("r4", 4, "read", 1); // granted together with r3
  user("w2", 5, "write", 1); // after r3 and r4: 17
  sim.run();
  deepStrictEqual(log, [
    "r1 read at 0",
    "r2 read at 1",
    "w1 write at 11",
    "r3 read at 16",
    "r4 read at 16",
    "w2 write at 17",
  ]);
  strictEqual(lock.write.stats.report(sim.now).totalWaitCycles, (11 - 2) + (17 - 5));
  strictEqual(lock.read.stats.acquisitions, 4);
  throws(() => lock.write.release(), /no writer holds it/);
});

Deno.test("tryAcquire takes a free lock without waiting and tells the observer who holds it", () => {
  const sim = new Simulator();
  const lock = new RwLock(sim, "sept");
  const mutex = new Mutex(sim, "m");
  const events: string[] = [];
  const observe = (name: string) => ({
    granted: (process: { name: string }, now: number) =>
      events.push(`${name} ${process.name}@${now}`),
    freed: (now: number) => events.push(`${name} free@${now}`),
    queued: () => {},
  });
  lock.stats.observer = observe("sept");
  mutex.stats.observer = observe("m");
  const holder: { a?: Process } = {};
  holder.a = sim.process(
    "a",
    function* () {
      yield 0;
      strictEqual(lock.write.tryAcquire(holder.a), true);
      strictEqual(mutex.tryAcquire(holder.a), true);
      yield 10;
      lock.write.release();
      mutex.release();
    }(),
  );
  sim.process(
    "b",
    function* () {
      yield 5;
      strictEqual(lock.read.tryAcquire(), false, "a writer holds it");
      strictEqual(lock.write.tryAcquire(), false);
      strictEqual(mutex.tryAcquire(), false);
      yield 10;
      strictEqual(lock.read.tryAcquire(), true);
      strictEqual(lock.write.tryAcquire(), false, "a reader holds it");
      lock.read.release();
    }(),
  );
  sim.run();
  deepStrictEqual(events, ["sept a@0", "m a@0", "sept free@10", "m free@10"]);
});
