// The timeline view: one lane per thread, pCPU and lock, drawn on a canvas from windowed
// queries; when a window holds too many spans the server sends per-pixel domain shares.
// Lanes with no span in the whole recording are collapsed (a toggle shows them), so the
// busy lanes keep the height; what failures did (SIGBUS, a guest terminated) is marked
// with a vertical line at its time, labelled above the lanes.
import { DOMAIN_COLORS, el, fmt, getJSON } from "./common.js";

const LABEL_WIDTH = 190;
const LANE_HEIGHT = 18;
const AXIS_HEIGHT = 22;
/** Room above the axis for outcome labels, when the run has outcomes. */
const MARK_HEIGHT = 14;
/** The row that says how many empty lanes are hidden. */
const COLLAPSED_HEIGHT = 12;
const MIN_SPAN_CYCLES = 64;
const OUTCOME_COLOR = "#e6007e"; // magenta: no domain or holder has it
/** Pixels either side of an outcome's line that hover shows it. */
const MARK_SLACK = 4;
const HOLDER_COLORS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
];

export class TimelineView {
  constructor({ canvas, tooltip, status, api, meta, clockGHz }) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.status = status;
    this.api = api;
    this.meta = meta;
    this.ghz = clockGHz;
    this.start = meta.window.startCycles;
    // Show what was recorded: up to where the span limit stopped the recording.
    const recordedEnd = meta.truncatedAtCycles ?? meta.window.endCycles;
    this.end = Math.max(recordedEnd, this.start + MIN_SPAN_CYCLES);
    this.from = this.start;
    this.to = this.end;
    this.data = null;
    this.sequence = 0;
    this.timer = 0;
    this.domainOfPrim = meta.primitives.map((p) => p.domain);
    // Old (version 1) timelines had neither: every lane counts as busy, no outcomes.
    this.outcomes = meta.outcomes ?? [];
    const spans = meta.laneSpans ?? meta.lanes.map(() => 1);
    const marked = new Set(this.outcomes.map((o) => o.lane));
    this.emptyLanes = meta.lanes.map((_, i) => i).filter((i) => spans[i] === 0 && !marked.has(i));
    this.showEmpty = false;
    this.#layout();
    this.#controls();
    this.#listen();
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** Which lanes get a row, top to bottom, and each lane's row (-1: collapsed). */
  #layout() {
    const empty = new Set(this.showEmpty ? [] : this.emptyLanes);
    this.rows = this.meta.lanes.map((_, i) => i).filter((i) => !empty.has(i));
    this.rowOf = new Int32Array(this.meta.lanes.length).fill(-1);
    this.rows.forEach((lane, row) => (this.rowOf[lane] = row));
    this.top = AXIS_HEIGHT + (this.outcomes.length > 0 ? MARK_HEIGHT : 0);
  }

  /** The empty-lanes toggle, the coverage note and the outcome list, next to the canvas. */
  #controls() {
    const { meta } = this;
    const wrap = this.canvas.parentElement;
    const notes = el("div", { id: "timeline-notes" });
    wrap.before(notes);
    if (this.emptyLanes.length > 0) {
      const count = this.emptyLanes.length;
      const button = el("button", {
        type: "button",
        id: "timeline-empty-lanes",
        "aria-pressed": "false",
        title: "Lanes with no span in the whole recording (nothing ran or held them)",
      });
      const label =
        () => (button.textContent = `${this.showEmpty ? "Hide" : "Show"} ${count} empty lane${
          count === 1 ? "" : "s"
        }`);
      label();
      button.addEventListener("click", () => {
        this.showEmpty = !this.showEmpty;
        button.setAttribute("aria-pressed", String(this.showEmpty));
        label();
        this.#layout();
        this.data = null; // the next window asks for the lanes now shown
        this.#schedule();
      });
      this.status.before(button);
    }
    // Say plainly when the timeline holds only part of the run, and what records more.
    const recordedStart = meta.window.startCycles;
    const recordedEnd = meta.truncatedAtCycles ?? meta.window.endCycles;
    const share = (recordedEnd - recordedStart) / Math.max(1, meta.simulatedCycles);
    if (share < 0.999) {
      const covers = `This timeline covers ${this.#time(recordedStart)} to ${
        this.#time(recordedEnd)
      } of the run's ${this.#time(meta.simulatedCycles)} (${fmt.dec(100 * share, 1)}%)`;
      // Spans grow about linearly with simulated time: what would hold the whole run.
      const needed = Math.min(50_000_000, roundUp(meta.maxSpans / Math.max(share, 1e-6)));
      const why = meta.truncatedAtCycles !== null
        ? `: recording stopped at its span limit of ${fmt.int(meta.maxSpans)} spans. ` +
          `About ${fmt.int(needed)} would hold the whole run: ` +
          `deno task sim run <scenario> --timeline-spans ${needed}, or ` +
          `deno task start --timeline-spans ${needed} for every shipped report ` +
          "(--timeline-window from:to records another stretch)."
        : ": that is the recording window (the scenario's timeline field, or --timeline-window).";
      notes.append(el(
        "p",
        { class: "note", id: "timeline-coverage" },
        `${covers}${why} The tables and charts below cover the whole run.`,
      ));
    }
    if (this.outcomes.length > 0) {
      // After the canvas: what happened, each with a button that zooms to it.
      const list = el("ul", {
        id: "timeline-outcomes",
        class: "note",
        style: "margin: 0.3rem 0; padding-left: 1.2rem",
      });
      for (const outcome of this.outcomes) {
        const outside = outcome.timeCycles < recordedStart || outcome.timeCycles > recordedEnd;
        const jump = el("button", {
          type: "button",
          style: `font-size: 0.8rem; padding: 0 0.4rem; color: ${OUTCOME_COLOR}`,
          disabled: outside,
          title: outside ? "not in the recorded stretch" : "zoom to it",
        }, outcome.label);
        jump.addEventListener("click", () => this.show(outcome.timeCycles));
        list.append(el(
          "li",
          { "data-kind": outcome.kind },
          jump,
          ` ${outcome.subject} at ${this.#time(outcome.timeCycles)}: ${outcome.cause}`,
          outside ? " (outside the recorded stretch)" : "",
        ));
      }
      wrap.after(list);
    }
  }

  get plotWidth() {
    return Math.max(50, this.canvas.clientWidth - LABEL_WIDTH);
  }

  /** Fetches the current window and draws it. */
  async load() {
    const sequence = ++this.sequence;
    const params = new URLSearchParams({
      from: String(Math.floor(this.from)),
      to: String(Math.ceil(this.to)),
      buckets: String(Math.min(4000, Math.round(this.plotWidth))),
      maxSpans: "20000",
    });
    // Only the lanes shown (collapsed empty lanes have nothing to send anyway).
    if (this.rows.length < this.meta.lanes.length) params.set("lanes", this.rows.join(","));
    try {
      const data = await getJSON(`${this.api}/timeline?${params}`);
      if (sequence !== this.sequence) return; // a newer window was asked for meanwhile
      this.data = data;
      this.draw();
    } catch (error) {
      this.status.textContent = `Timeline unavailable: ${error.message}`;
    }
  }

  #schedule() {
    this.draw();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), 80);
  }

  /** Zooms by `factor` (< 1 zooms in) around `center` (0..1 across the plot). */
  zoom(factor, center = 0.5) {
    const span = this.to - this.from;
    const next = Math.min(this.end - this.start, Math.max(MIN_SPAN_CYCLES, span * factor));
    const pivot = this.from + center * span;
    this.#setWindow(pivot - center * next, next);
  }

  /** Moves the window by `fraction` of its width. */
  pan(fraction) {
    const span = this.to - this.from;
    this.#setWindow(this.from + fraction * span, span);
  }

  /** Shows the whole recorded window. */
  reset() {
    this.#setWindow(this.start, this.end - this.start);
  }

  /** Zooms to a short stretch around `cycles` (an outcome), within what was recorded. */
  show(cycles) {
    const span = Math.max(
      MIN_SPAN_CYCLES,
      Math.min(this.end - this.start, (this.end - this.start) / 50),
    );
    this.#setWindow(cycles - span / 2, span);
  }

  #setWindow(from, span) {
    const clamped = Math.min(Math.max(this.start, from), this.end - span);
    this.from = Math.max(this.start, clamped);
    this.to = Math.min(this.end, this.from + span);
    this.#schedule();
  }

  #x(cycles) {
    return LABEL_WIDTH + ((cycles - this.from) / (this.to - this.from)) * this.plotWidth;
  }

  #time(cycles) {
    const us = cycles / (this.ghz * 1000);
    return us >= 1000 ? `${fmt.dec(us / 1000, 3)} ms` : `${fmt.dec(us, 2)} µs`;
  }

  /** The number of the lane drawn at `y`, or -1. */
  #laneAt(y) {
    const row = Math.floor((y - this.top) / LANE_HEIGHT);
    return row >= 0 && row < this.rows.length ? this.rows[row] : -1;
  }

  draw() {
    const { canvas, meta, top } = this;
    const lanes = meta.lanes;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const hidden = lanes.length - this.rows.length;
    const lanesBottom = top + this.rows.length * LANE_HEIGHT;
    const height = lanesBottom + (hidden > 0 ? COLLAPSED_HEIGHT : 0);
    canvas.style.height = `${height}px`;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = "11px system-ui, sans-serif";
    // Lane backgrounds and labels.
    this.rows.forEach((lane, i) => {
      const y = top + i * LANE_HEIGHT;
      g.fillStyle = i % 2 === 0 ? "#ffffff" : "#f6f8fa";
      g.fillRect(0, y, width, LANE_HEIGHT);
      g.fillStyle = "#1d2430";
      g.fillText(lanes[lane].name, 6, y + 13, LABEL_WIDTH - 10);
    });
    if (hidden > 0) {
      g.fillStyle = "#eef1f4";
      g.fillRect(0, lanesBottom, width, COLLAPSED_HEIGHT);
      g.fillStyle = "#5d6776";
      g.font = "9px system-ui, sans-serif";
      g.fillText(`${hidden} empty lane${hidden === 1 ? "" : "s"} collapsed`, 6, lanesBottom + 9);
      g.font = "11px system-ui, sans-serif";
    }
    // Time axis.
    g.fillStyle = "#5d6776";
    for (let k = 0; k <= 5; k++) {
      const cycles = this.from + (k / 5) * (this.to - this.from);
      const x = this.#x(cycles);
      g.fillRect(x, top - 4, 1, 4);
      g.fillText(this.#time(cycles), Math.min(x + 2, width - 70), top - 10);
    }
    g.save();
    g.beginPath();
    g.rect(LABEL_WIDTH, top, this.plotWidth, lanesBottom - top);
    g.clip();
    const data = this.data;
    if (data !== null) this.#drawData(g, data);
    g.restore();
    this.#drawOutcomes(g, lanesBottom);
    const shown = data === null
      ? "loading"
      : data.aggregated
      ? `${fmt.int(data.spanCount)} spans aggregated per pixel`
      : `${fmt.int(data.steps.length)} steps`;
    const truncated = meta.truncatedAtCycles !== null
      ? ` · recording stopped at ${this.#time(meta.truncatedAtCycles)} (span limit)`
      : "";
    const counted = hidden > 0
      ? `${this.rows.length} of ${lanes.length} lanes (${hidden} empty collapsed)`
      : `${lanes.length} lanes`;
    const outcomes = this.outcomes.length > 0
      ? ` · ${this.outcomes.length} outcome${this.outcomes.length === 1 ? "" : "s"} marked`
      : "";
    this.status.textContent = `${counted}, ${this.#time(this.from)} to ${
      this.#time(this.to)
    }: ${shown}${truncated}${outcomes}`;
  }

  /** Outcomes in the window, grouped by pixel column: [{ x, outcomes }]. */
  #visibleOutcomes() {
    const columns = new Map();
    for (const outcome of this.outcomes) {
      if (outcome.timeCycles < this.from || outcome.timeCycles > this.to) continue;
      const x = Math.round(this.#x(outcome.timeCycles));
      if (!columns.has(x)) columns.set(x, []);
      columns.get(x).push(outcome);
    }
    return [...columns].map(([x, outcomes]) => ({ x, outcomes }));
  }

  /** A vertical line per outcome, its label above the lanes, and a bar on the lanes it hit. */
  #drawOutcomes(g, lanesBottom) {
    const top = this.top;
    const lanes = this.meta.lanes;
    let labelsEnd = -Infinity;
    for (const { x, outcomes } of this.#visibleOutcomes()) {
      g.fillStyle = OUTCOME_COLOR;
      g.globalAlpha = 0.55;
      g.fillRect(x, top - 4, 1, lanesBottom - top + 4);
      g.globalAlpha = 1;
      for (const outcome of outcomes) {
        const hit = (lane) =>
          outcome.lane !== null
            ? lane === outcome.lane
            : outcome.group === null || lanes[lane].group === outcome.group;
        this.rows.forEach((lane, row) => {
          if (hit(lane)) g.fillRect(x - 1, top + row * LANE_HEIGHT + 1, 3, LANE_HEIGHT - 2);
        });
      }
      // Labels left to right, skipping one that would overlap the previous.
      const text = [...new Set(outcomes.map((o) => o.label))].join(" · ");
      const textWidth = g.measureText(text).width;
      const left = Math.min(x + 3, this.canvas.clientWidth - textWidth - 2);
      if (left > labelsEnd) {
        g.fillText(text, left, 11);
        labelsEnd = left + textWidth + 6;
      }
    }
  }

  #drawData(g, data) {
    const rowOf = this.rowOf;
    const laneY = (lane) => this.top + rowOf[lane] * LANE_HEIGHT;
    if (data.aggregated) {
      // Two characters per bucket: dominant domain, then recorded share in tenths.
      for (const { lane, cells } of data.buckets) {
        if (rowOf[lane] < 0) continue;
        const count = cells.length / 2;
        const columnWidth = this.plotWidth / count;
        const y = laneY(lane) + 2;
        for (let bucket = 0; bucket < count; bucket++) {
          const domain = cells[2 * bucket];
          if (domain === "-") continue;
          const level = cells[2 * bucket + 1];
          const share = level === "a" ? 1 : Number(level) / 10;
          const h = Math.max(2, share * (LANE_HEIGHT - 4));
          g.fillStyle = DOMAIN_COLORS[data.domains[Number(domain)]] ?? "#999";
          g.fillRect(
            LABEL_WIDTH + bucket * columnWidth,
            y + (LANE_HEIGHT - 4 - h),
            Math.max(1, columnWidth),
            h,
          );
        }
      }
    } else {
      for (const [lane, prim, , start, duration] of data.steps) {
        if (rowOf[lane] < 0) continue;
        const x = this.#x(start);
        g.fillStyle = DOMAIN_COLORS[this.domainOfPrim[prim]] ?? "#999";
        g.fillRect(x, laneY(lane) + 4, Math.max(1, this.#x(start + duration) - x), LANE_HEIGHT - 6);
      }
      for (const [lane, , start, duration] of data.operations) {
        if (rowOf[lane] < 0) continue;
        const x = this.#x(start);
        g.fillStyle = "#1d2430";
        g.fillRect(x, laneY(lane) + 1, Math.max(1, this.#x(start + duration) - x), 2);
      }
      for (const [lane, holder, start, duration] of data.occupancy) {
        if (rowOf[lane] < 0) continue;
        const x = this.#x(start);
        g.fillStyle = holder >= 0
          ? HOLDER_COLORS[holder % HOLDER_COLORS.length]
          : DOMAIN_COLORS.busy;
        g.fillRect(x, laneY(lane) + 3, Math.max(1, this.#x(start + duration) - x), LANE_HEIGHT - 6);
      }
    }
    g.fillStyle = "#1d2430";
    for (const [lane, , time] of data.instants) {
      if (rowOf[lane] >= 0) g.fillRect(this.#x(time), laneY(lane), 1, 4);
    }
    g.strokeStyle = "rgba(60, 60, 60, 0.55)";
    g.beginPath();
    for (const [, fromLane, fromTime, toLane, toTime] of data.flows) {
      if (rowOf[fromLane] < 0 || rowOf[toLane] < 0) continue;
      g.moveTo(this.#x(fromTime), laneY(fromLane) + LANE_HEIGHT / 2);
      g.lineTo(this.#x(toTime), laneY(toLane) + LANE_HEIGHT / 2);
    }
    g.stroke();
  }

  /** What is under the pointer, as text. */
  #describe(x, y) {
    const data = this.data;
    if (x >= LABEL_WIDTH) {
      const near = this.#visibleOutcomes().find((c) => Math.abs(c.x - x) <= MARK_SLACK);
      if (near !== undefined) {
        return near.outcomes.map((o) =>
          `${o.label} at ${this.#time(o.timeCycles)}\n${o.subject}: ${o.cause}`
        ).join("\n\n");
      }
    }
    const lane = this.#laneAt(y);
    if (data === null || x < LABEL_WIDTH || lane < 0) return null;
    const time = this.from + ((x - LABEL_WIDTH) / this.plotWidth) * (this.to - this.from);
    const name = this.meta.lanes[lane].name;
    if (data.aggregated) {
      const row = data.buckets.find((b) => b.lane === lane);
      if (row === undefined) return null;
      const bucket = Math.floor(((x - LABEL_WIDTH) / this.plotWidth) * (row.cells.length / 2));
      const domain = row.cells[2 * bucket];
      if (domain === undefined || domain === "-") {
        return `${name} at ${this.#time(time)}\nnothing recorded`;
      }
      const level = row.cells[2 * bucket + 1];
      const share = level === "a" ? "all" : `${level}0%`;
      return `${name} at ${this.#time(time)}\nmostly ${data.domains[Number(domain)]} ` +
        `(${share} of this pixel recorded)\nzoom in for the steps`;
    }
    const slack = (this.to - this.from) / this.plotWidth; // one pixel of time
    for (const [l, prim, op, start, duration] of data.steps) {
      if (l !== lane || time < start - slack || time > start + duration + slack) continue;
      const primitive = this.meta.primitives[prim];
      const operation = op >= 0 ? `\noperation: ${this.meta.operations[op]}` : "";
      return `${name}\n${primitive.name} (${primitive.domain})${operation}\n` +
        `${fmt.int(duration)} cycles = ${fmt.dec(duration / this.ghz)} ns\nat ${this.#time(start)}`;
    }
    for (const [l, holder, start, duration] of data.occupancy) {
      if (l !== lane || time < start || time > start + duration) continue;
      const who = holder >= 0 ? this.meta.lanes[holder].name : "held";
      return `${name}\n${who}\n${fmt.int(duration)} cycles from ${this.#time(start)}`;
    }
    return null;
  }

  #listen() {
    const canvas = this.canvas;
    let drag = null;
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const center = Math.min(1, Math.max(0, (event.offsetX - LABEL_WIDTH) / this.plotWidth));
      this.zoom(event.deltaY < 0 ? 0.7 : 1 / 0.7, center);
    }, { passive: false });
    canvas.addEventListener("mousedown", (event) => {
      drag = { x: event.offsetX, from: this.from };
      canvas.style.cursor = "grabbing";
    });
    addEventListener("mouseup", () => {
      drag = null;
      canvas.style.cursor = "grab";
    });
    canvas.addEventListener("mousemove", (event) => {
      if (drag !== null) {
        const span = this.to - this.from;
        this.#setWindow(drag.from - ((event.offsetX - drag.x) / this.plotWidth) * span, span);
        return;
      }
      const text = this.#describe(event.offsetX, event.offsetY);
      this.tooltip.style.display = text === null ? "none" : "block";
      if (text !== null) {
        this.tooltip.textContent = text;
        this.tooltip.style.left = `${Math.min(event.offsetX + 12, canvas.clientWidth - 220)}px`;
        this.tooltip.style.top = `${event.offsetY + 12}px`;
      }
    });
    canvas.addEventListener("mouseleave", () => {
      this.tooltip.style.display = "none";
    });
    canvas.addEventListener("keydown", (event) => {
      const actions = {
        "+": () => this.zoom(0.5),
        "=": () => this.zoom(0.5),
        "-": () => this.zoom(2),
        ArrowLeft: () => this.pan(-0.25),
        ArrowRight: () => this.pan(0.25),
        "0": () => this.reset(),
        Home: () => this.reset(),
      };
      const action = actions[event.key];
      if (action !== undefined) {
        event.preventDefault();
        action();
      }
    });
  }
}

/** `n` rounded up to two significant digits. */
function roundUp(n) {
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, n))) - 1);
  return Math.ceil(n / unit) * unit;
}
