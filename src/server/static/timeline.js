// The timeline view: one lane per thread, pCPU and lock, drawn on a canvas from windowed
// queries; when a window holds too many spans the server sends per-pixel domain shares.
import { DOMAIN_COLORS, fmt, getJSON } from "./common.js";

const LABEL_WIDTH = 190;
const LANE_HEIGHT = 18;
const AXIS_HEIGHT = 22;
const MIN_SPAN_CYCLES = 64;
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
    this.#listen();
    new ResizeObserver(() => this.draw()).observe(canvas);
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

  draw() {
    const { canvas, meta } = this;
    const lanes = meta.lanes;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = AXIS_HEIGHT + lanes.length * LANE_HEIGHT;
    canvas.style.height = `${height}px`;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = "11px system-ui, sans-serif";
    // Lane backgrounds and labels.
    lanes.forEach((lane, i) => {
      const y = AXIS_HEIGHT + i * LANE_HEIGHT;
      g.fillStyle = i % 2 === 0 ? "#ffffff" : "#f6f8fa";
      g.fillRect(0, y, width, LANE_HEIGHT);
      g.fillStyle = "#1d2430";
      g.fillText(lane.name, 6, y + 13, LABEL_WIDTH - 10);
    });
    // Time axis.
    g.fillStyle = "#5d6776";
    for (let k = 0; k <= 5; k++) {
      const cycles = this.from + (k / 5) * (this.to - this.from);
      const x = this.#x(cycles);
      g.fillRect(x, AXIS_HEIGHT - 4, 1, 4);
      g.fillText(this.#time(cycles), Math.min(x + 2, width - 70), 12);
    }
    g.save();
    g.beginPath();
    g.rect(LABEL_WIDTH, AXIS_HEIGHT, this.plotWidth, height - AXIS_HEIGHT);
    g.clip();
    const data = this.data;
    if (data !== null) this.#drawData(g, data);
    g.restore();
    const shown = data === null
      ? "loading"
      : data.aggregated
      ? `${fmt.int(data.spanCount)} spans aggregated per pixel`
      : `${fmt.int(data.steps.length)} steps`;
    const truncated = meta.truncatedAtCycles !== null
      ? ` · recording stopped at ${this.#time(meta.truncatedAtCycles)} (span limit)`
      : "";
    this.status.textContent = `${lanes.length} lanes, ${this.#time(this.from)} to ${
      this.#time(this.to)
    }: ${shown}${truncated}`;
  }

  #drawData(g, data) {
    const laneY = (lane) => AXIS_HEIGHT + lane * LANE_HEIGHT;
    if (data.aggregated) {
      // Two characters per bucket: dominant domain, then recorded share in tenths.
      for (const { lane, cells } of data.buckets) {
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
        const x = this.#x(start);
        g.fillStyle = DOMAIN_COLORS[this.domainOfPrim[prim]] ?? "#999";
        g.fillRect(x, laneY(lane) + 4, Math.max(1, this.#x(start + duration) - x), LANE_HEIGHT - 6);
      }
      for (const [lane, , start, duration] of data.operations) {
        const x = this.#x(start);
        g.fillStyle = "#1d2430";
        g.fillRect(x, laneY(lane) + 1, Math.max(1, this.#x(start + duration) - x), 2);
      }
      for (const [lane, holder, start, duration] of data.occupancy) {
        const x = this.#x(start);
        g.fillStyle = holder >= 0
          ? HOLDER_COLORS[holder % HOLDER_COLORS.length]
          : DOMAIN_COLORS.busy;
        g.fillRect(x, laneY(lane) + 3, Math.max(1, this.#x(start + duration) - x), LANE_HEIGHT - 6);
      }
    }
    g.fillStyle = "#1d2430";
    for (const [lane, , time] of data.instants) g.fillRect(this.#x(time), laneY(lane), 1, 4);
    g.strokeStyle = "rgba(60, 60, 60, 0.55)";
    g.beginPath();
    for (const [, fromLane, fromTime, toLane, toTime] of data.flows) {
      g.moveTo(this.#x(fromTime), laneY(fromLane) + LANE_HEIGHT / 2);
      g.lineTo(this.#x(toTime), laneY(toLane) + LANE_HEIGHT / 2);
    }
    g.stroke();
  }

  /** What is under the pointer, as text. */
  #describe(x, y) {
    const data = this.data;
    const lane = Math.floor((y - AXIS_HEIGHT) / LANE_HEIGHT);
    if (data === null || x < LABEL_WIDTH || lane < 0 || lane >= this.meta.lanes.length) return null;
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
