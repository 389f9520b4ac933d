import { DOMAIN_COLORS, el, fmt, getJSON, legend, showError, table } from "./common.js";
import { TimelineView } from "./timeline.js";

const id = decodeURIComponent(location.pathname.split("/").pop());
const api = `/api/reports/${encodeURIComponent(id)}`;
const main = document.querySelector("main");

try {
  const summary = await getJSON(api);
  render(summary);
  answer().catch((error) => showError(document.getElementById("answer"), error));
  await timeline(summary);
} catch (error) {
  showError(main, error);
}

/** True when one bucket holds most operations, so the others vanish on a linear axis. */
function dominated(buckets) {
  if (buckets.length < 3) return false;
  const counts = buckets.map((b) => b[2]);
  const total = counts.reduce((a, b) => a + b, 0);
  return Math.max(...counts) >= 0.5 * total;
}

/** The number that answers the scenario's question, against its baseline's run. */
async function answer() {
  const cards = await getJSON("/api/scenarios");
  const card = cards.find((c) => c.runs.some((r) => r.id === id));
  const box = document.getElementById("answer");
  if (card === undefined) return;
  document.getElementById("question").textContent = card.question;
  const own = card.runs.find((r) => r.id === id);
  const base = card.runs.find((r) => r.design === card.baseline);
  const { metric, unit, lowerIsBetter } = card.headline;
  const show = (v) => fmt.headline(v, unit);
  const items = [el("div", {}, el("b", {}, show(own.value)), metric)];
  if (base !== undefined && base.id !== id && own.value !== null && base.value) {
    const percent = (100 * (own.value - base.value)) / base.value;
    const worse = lowerIsBetter ? percent > 0 : percent < 0;
    items.push(
      el(
        "div",
        {},
        el(
          "b",
          { class: Math.abs(percent) < 0.05 ? null : worse ? "worse" : "better" },
          `${percent >= 0 ? "+" : "−"}${fmt.dec(Math.abs(percent))}%`,
        ),
        "against ",
        el("a", { href: `/reports/${encodeURIComponent(base.id)}` }, card.baseline),
        ` (${show(base.value)})`,
      ),
    );
  } else if (base !== undefined && base.id === id) {
    items.push(el("div", {}, el("b", {}, "baseline"), "of this scenario"));
  }
  if (card.runs.length > 1) {
    const ids = card.runs.map((r) => encodeURIComponent(r.id)).join(",");
    items.push(
      el(
        "div",
        {},
        el("b", {}, `${card.runs.length} designs`),
        el("a", {
          href: `/compare?ids=${ids}&baseline=${encodeURIComponent(card.baseline)}`,
        }, "compare them"),
      ),
    );
  }
  if (own.outcome !== "") {
    items.push(el("div", {}, el("b", { class: "worse" }, own.outcome), "outcome"));
  }
  box.replaceChildren(...items);
}

function render(s) {
  const ghz = s.scenario.host.clockGHz;
  const seconds = s.run.simulatedCycles / (ghz * 1e9);
  document.title = `${s.scenario.name} · ${s.design.name}`;
  document.getElementById("title").textContent = `${s.scenario.name} · ${s.design.name}`;
  document.getElementById("description").textContent = s.scenario.description;
  const facts = [
    ["design", `${s.design.name} (${s.design.platform})`],
    ["profile", `${s.profile.name}, ${ghz} GHz`],
    ["seed", s.seed],
    ["simulated", `${fmt.dec(s.run.simulatedMs, 3)} ms`],
    ["ended by", s.run.stop],
    ["exits", fmt.int(s.totals.exits)],
    ["vCPUs", s.vcpus.length],
  ];
  document.getElementById("facts").replaceChildren(
    ...facts.map(([k, v]) => el("div", {}, el("b", {}, String(v)), k)),
  );
  document.getElementById("links").replaceChildren(
    "Download: ",
    el("a", { href: api }, "summary.json"),
    ...[
      "threads",
      "primitives",
      "exits",
      "operations",
      "resources",
      ...(s.workloads.some((w) => w.memory) ? ["memory"] : []),
    ].flatMap((t) => [
      " · ",
      el("a", { href: `${api}/tables/${t}.csv` }, `${t}.csv`),
    ]),
  );

  // Reliability: what failures did, when anything failed.
  const outcomes = s.outcomes?.events ?? [];
  if (outcomes.length > 0) {
    const o = s.outcomes;
    const list = (names) => names.join(", ") || "none";
    document.getElementById("outcomes").hidden = false;
    document.getElementById("outcomes-table").replaceChildren(
      el(
        "p",
        { class: "note" },
        `Host panicked: ${o.hostPanicked ? "yes" : "no"}. Killed by SIGBUS: ` +
          `${list(o.killedProcesses)}. Took #VC: ${list(o.guestsWithVc)}. ` +
          `Terminated: ${list(o.terminatedGuests)}. Lost service: ` +
          `${list(o.serviceLoss.map((l) => `${l.vm} (${fmt.dec(l.downMs, 3)} ms)`))}.`,
      ),
      table(
        ["at (ms)", "outcome", "subject", "cause"],
        outcomes.map((e) => [fmt.dec(e.atMs, 3), e.kind, e.subject, e.cause]),
        { textColumns: [1, 2, 3] },
      ),
    );
  }

  memory(s);

  // Time by domain per thread: stacked bars, shares of the run.
  const threads = [...s.vcpus, ...s.threads].slice(0, 64);
  const domains = Object.keys(s.totals.byDomain).filter((d) => s.totals.byDomain[d] > 0);
  const run = s.run.simulatedCycles;
  document.getElementById("domains-box").style.height = `${
    Math.max(220, 26 * threads.length + 80)
  }px`;
  new Chart(document.getElementById("domains"), {
    type: "bar",
    data: {
      labels: threads.map((t) => t.name),
      datasets: domains.map((d) => ({
        label: d,
        data: threads.map((t) => (100 * t.byDomain[d]) / run),
        backgroundColor: DOMAIN_COLORS[d],
      })),
    },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true, max: 100, title: { display: true, text: "% of the run" } },
        y: { stacked: true },
      },
      plugins: {
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.raw.toFixed(1)}%` } },
      },
    },
  });
  document.getElementById("domains-table").replaceChildren(table(
    ["thread", ...domains],
    threads.map((t) => [t.name, ...domains.map((d) => fmt.pct(t.byDomain[d], run))]),
  ));

  // Latency histograms, one operation at a time.
  const select = document.getElementById("operation");
  const ops = Object.keys(s.operations);
  select.replaceChildren(...ops.map((op) => el("option", { value: op }, op)));
  let chart;
  const showOp = () => {
    const op = s.operations[select.value];
    if (op === undefined) return;
    const buckets = op.histogram ?? [];
    chart?.destroy();
    chart = new Chart(document.getElementById("latency"), {
      type: "bar",
      data: {
        labels: buckets.map((
          [lo, hi],
        ) => (lo === hi ? fmt.int(lo) : `${fmt.int(lo)}–${fmt.int(hi)}`)),
        datasets: [{
          label: `${select.value} (count)`,
          data: buckets.map((b) => b[2]),
          backgroundColor: "#2f6fb3",
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: "cycles" } },
          y: {
            type: logy.checked ? "logarithmic" : "linear",
            title: { display: true, text: logy.checked ? "operations (log)" : "operations" },
          },
        },
      },
    });
    document.getElementById("latency-table").replaceChildren(table(
      ["count", "mean", "p50", "p90", "p99", "p99.9", "max", "mean ns"],
      [[
        fmt.int(op.count),
        fmt.int(op.meanCycles),
        fmt.int(op.p50Cycles),
        fmt.int(op.p90Cycles),
        fmt.int(op.p99Cycles),
        fmt.int(op.p999Cycles),
        fmt.int(op.maxCycles),
        fmt.dec(op.meanCycles / ghz),
      ]],
      { textColumns: [], caption: "cycles" },
    ));
  };
  const logy = document.getElementById("latency-logy");
  select.addEventListener("change", () => {
    logy.checked = dominated(s.operations[select.value]?.histogram ?? []);
    showOp();
  });
  logy.addEventListener("change", showOp);
  logy.checked = ops.length > 0 && dominated(s.operations[ops[0]].histogram ?? []);
  if (ops.length > 0) showOp();
  else document.getElementById("latency-table").textContent = "No guest operations in this run.";

  document.getElementById("exits").replaceChildren(table(
    ["reason", "exits", "per simulated s"],
    Object.entries(s.totals.exitsByReason).map(([r, n]) => [r, fmt.int(n), fmt.int(n / seconds)]),
  ));
  document.getElementById("resources").replaceChildren(table(
    ["resource", "utilization", "acquired", "waited", "mean wait", "p99 wait", "max queue"],
    s.resources.filter((r) => r.acquisitions > 0).map((r) => [
      r.name,
      fmt.pct(r.utilization, 1),
      fmt.int(r.acquisitions),
      fmt.int(r.contended),
      fmt.int(r.waitCycles.mean),
      fmt.int(r.waitCycles.p99),
      r.maxQueueLength,
    ]),
  ));
  const all = Object.values(s.totals.byDomain).reduce((a, b) => a + b, 0);
  document.getElementById("primitives").replaceChildren(table(
    ["primitive", "count", "cycles", "share", "cycles each"],
    Object.entries(s.totals.byPrimitive)
      .sort((a, b) => b[1].cycles - a[1].cycles)
      .map((
        [name, p],
      ) => [
        name,
        fmt.int(p.count),
        fmt.int(p.cycles),
        fmt.pct(p.cycles, all),
        p.count ? fmt.int(p.cycles / p.count) : "-",
      ]),
  ));
}

/** Memory workloads: cycles per access split into data and STLB hits vs walks, and a table. */
function memory(s) {
  const workloads = s.workloads.filter((w) => w.memory);
  if (workloads.length === 0) return;
  document.getElementById("memory").hidden = false;
  const labels = workloads.map((w) => `${w.guest} #${w.index}`);
  const walk = workloads.map((w) => w.memory.walkCyclesPerAccess);
  const rest = workloads.map((w) =>
    Math.max(0, w.memory.meanAccessCycles - w.memory.walkCyclesPerAccess)
  );
  document.getElementById("memory-box").style.height = `${
    Math.max(160, 40 * workloads.length + 80)
  }px`;
  new Chart(document.getElementById("memory-chart"), {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: "data, STLB hits and interruptions", data: rest, backgroundColor: "#4e79a7" },
        { label: "page walks", data: walk, backgroundColor: "#e15759" },
      ],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { stacked: true, title: { display: true, text: "cycles per access" } },
        y: { stacked: true },
      },
    },
  });
  document.getElementById("memory-table").replaceChildren(table(
    [
      "workload",
      "accesses/s",
      "GB/s",
      "ns per access",
      "walk cycles",
      "STLB misses",
      "cycles per walk",
      "under 2 MiB leaves",
      "warm-up ms",
    ],
    workloads.map((w, i) => {
      const m = w.memory;
      return [
        labels[i],
        fmt.int(m.accessesPerSec),
        fmt.dec(m.bytesPerSec / 1e9, 2),
        fmt.dec(m.meanAccessNs, 1),
        fmt.dec(m.walkCyclesPerAccess, 1),
        fmt.dec(m.stlbMissRate, 3),
        fmt.int(m.cyclesPerWalk),
        `${fmt.dec(100 * m.hugeShare, 1)}%`,
        fmt.dec(m.warmupMs, 1),
      ];
    }),
  ));
}

async function timeline(summary) {
  const status = document.getElementById("timeline-status");
  let meta;
  try {
    meta = await getJSON(`${api}/timeline/meta`);
  } catch {
    status.textContent = "No timeline was recorded for this run.";
    document.getElementById("timeline-wrap").hidden = true;
    return;
  }
  const links = document.getElementById("links");
  links.append(" · ", el("a", { href: `${api}/trace.json` }, "Perfetto trace (trace.json)"));
  const domains = [...new Set(meta.primitives.map((p) => p.domain))];
  document.getElementById("timeline-legend").replaceChildren(legend([...domains, "busy"]));
  const view = new TimelineView({
    canvas: document.getElementById("timeline"),
    tooltip: document.getElementById("tooltip"),
    status,
    api,
    meta,
    clockGHz: summary.scenario.host.clockGHz,
  });
  document.getElementById("zoom-in").addEventListener("click", () => view.zoom(0.5));
  document.getElementById("zoom-out").addEventListener("click", () => view.zoom(2));
  document.getElementById("pan-left").addEventListener("click", () => view.pan(-0.25));
  document.getElementById("pan-right").addEventListener("click", () => view.pan(0.25));
  document.getElementById("zoom-reset").addEventListener("click", () => view.reset());
  await view.load();
}
