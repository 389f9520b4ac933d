/**
 * The reports `deno task start` makes while the dashboard already serves: every shipped
 * scenario under each of its designs, on a pool of workers (one per core), skipping each
 * one whose report was made from the same scenario text, design, seed, timeline span limit
 * and code (its identity, kept in run-info.json); then the scenarios' sweep studies. The
 * dashboard shows what is still coming from {@linkcode ReportProducer.status}.
 *
 * @module
 */

import { join } from "node:path";
import { CVMSIM_VERSION } from "../report/summary.ts";
import { loadScenario, ScenarioError } from "../scenario/load.ts";
import { checkWork, DEFAULT_MAX_EVENTS, estimateWork } from "../scenario/estimate.ts";
import type { ProduceReply, ProduceRequest } from "./producer_worker.ts";
import { tableLayout } from "../report/format.ts";

/** One report to make. */
export interface Job {
  file: string;
  scenario: string;
  design: string;
  seed: number;
  /** Report directory name (scenario--design--seed). */
  id: string;
  identity: string;
  /** Estimated events (the longest jobs go first, so the workers finish together). */
  events: number;
}

/** What the producer has done and has left, for the dashboard. */
export interface ProducerStatus {
  total: number;
  done: number;
  reused: number;
  running: string[];
  pending: string[];
  failed: { id: string; error: string }[];
  /** True once every report (and study) is made. */
  finished: boolean;
}

/** Options of {@linkcode ReportProducer}. */
export interface ProducerOptions {
  files: string[];
  reportsDir: string;
  jobs: number;
  /** Spans each report's timeline may hold (0: no timeline); part of each report's identity. */
  timelineSpans: number;
  /** Progress: a table of the reports as they are made, one row each (nothing with --quiet). */
  log: (line: string) => void;
  /** A scenario rejected or a report that failed (printed even with --quiet). */
  problem: (line: string) => void;
  /** Runs after the reports (the sweep studies); its lines go to `log`. */
  after?: () => Promise<void>;
}

/** A hash of the code that makes reports: every file under src/ (paths and contents). */
export async function codeHash(root: string): Promise<string> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  walk(join(root, "src"));
  files.sort();
  const encoder = new TextEncoder();
  const parts = files.map((file) =>
    encoder.encode(`${file.slice(root.length)}\n${Deno.readTextFileSync(file)}\n`)
  );
  const all = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return hex(await crypto.subtle.digest("SHA-256", all)).slice(0, 16);
}

async function textHash(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).slice(0, 16);
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when `dir` holds a complete report whose identity is `identity`. */
function upToDate(dir: string, identity: string): boolean {
  try {
    const info = JSON.parse(Deno.readTextFileSync(join(dir, "run-info.json")));
    Deno.statSync(join(dir, "summary.json"));
    return info.identity === identity && info.partial === undefined;
  } catch {
    return false;
  }
}

/** Makes the reports in the background; see the module doc. */
export class ReportProducer {
  readonly #options: ProducerOptions;
  readonly #status: ProducerStatus = {
    total: 0,
    done: 0,
    reused: 0,
    running: [],
    pending: [],
    failed: [],
    finished: false,
  };
  /** Resolves when every report and study is made. */
  readonly finished: Promise<void>;
  #resolve!: () => void;

  constructor(options: ProducerOptions) {
    this.#options = options;
    this.finished = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** A copy of the current status. */
  status(): ProducerStatus {
    const s = this.#status;
    return {
      ...s,
      running: [...s.running],
      pending: [...s.pending],
      failed: [...s.failed],
    };
  }

  /** Works out what to make (fast), then makes it on the workers (in the background). */
  async start(root: string): Promise<void> {
    const code = `${CVMSIM_VERSION}+${await codeHash(root)}`;
    const jobs: Job[] = [];
    for (const file of this.#options.files) {
      let loaded;
      try {
        loaded = loadScenario(file);
        checkWork(loaded, DEFAULT_MAX_EVENTS);
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        this.#options.problem(error.message);
        continue;
      }
      const text = await textHash(Deno.readTextFileSync(file));
      const events = estimateWork(loaded).events;
      for (const design of loaded.scenario.designs) {
        const { name, seed } = loaded.scenario;
        const id = `${name}--${design}--seed${seed}`;
        const spans = this.#options.timelineSpans;
        const identity = `${text}/${design}/${seed}/spans${spans}/${code}`;
        jobs.push({ file, scenario: name, design, seed, id, identity, events });
      }
    }
    const status = this.#status;
    status.total = jobs.length;
    const todo = jobs.filter((job) => {
      if (!upToDate(join(this.#options.reportsDir, job.id), job.identity)) return true;
      status.done++;
      status.reused++;
      return false;
    });
    // Longest first (by the work estimate; stable for equal ones): the workers end together.
    todo.sort((a, b) => b.events - a.events);
    status.pending = todo.map((job) => job.id);
    if (status.reused > 0) {
      this.#options.log(
        `${status.reused} reports are up to date (same scenario, design, seed, span limit, code)`,
      );
    }
    this.#run(todo).then(async () => {
      await this.#options.after?.();
      status.finished = true;
      this.#resolve();
    });
  }

  async #run(todo: Job[]): Promise<void> {
    const status = this.#status;
    // One row per report as it lands, in columns wide enough for every name to come.
    const layout = tableLayout(
      ["report", "scenario", "design", "wall"],
      todo.map((job) => [`${status.total}/${status.total}`, job.scenario, job.design, "999.9 s"]),
      ["right", "left", "left", "right"],
    );
    if (todo.length > 0) this.#options.log(layout.header);
    let next = 0;
    const spawn = () =>
      new Worker(new URL("./producer_worker.ts", import.meta.url).href, { type: "module" });
    const worker = async () => {
      if (next >= todo.length) return;
      let w = spawn();
      try {
        while (next < todo.length) {
          const job = todo[next++];
          status.pending.splice(status.pending.indexOf(job.id), 1);
          status.running.push(job.id);
          const reply = await new Promise<ProduceReply>((resolve) => {
            w.onmessage = (event: MessageEvent<ProduceReply>) => resolve(event.data);
            w.onerror = (event) => {
              // A worker that threw is not trusted with the next job: replace it.
              event.preventDefault();
              w.terminate();
              w = spawn();
              resolve({ ok: false, error: event.message });
            };
            w.postMessage(
              {
                file: job.file,
                design: job.design,
                reportsDir: this.#options.reportsDir,
                identity: job.identity,
                timelineSpans: this.#options.timelineSpans,
              } satisfies ProduceRequest,
            );
          });
          status.running.splice(status.running.indexOf(job.id), 1);
          status.done++;
          const wall = reply.ok ? `${(reply.wallMs / 1000).toFixed(1)} s` : "failed";
          this.#options.log(
            layout.row([`${status.done}/${status.total}`, job.scenario, job.design, wall]),
          );
          if (!reply.ok) {
            status.failed.push({ id: job.id, error: reply.error });
            this.#options.problem(`cvmsim start: ${job.id} failed: ${reply.error}`);
          }
        }
      } finally {
        w.terminate();
      }
    };
    const count = Math.max(1, Math.min(this.#options.jobs, todo.length));
    await Promise.all(Array.from({ length: count }, worker));
  }
}
