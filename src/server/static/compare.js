import { DOMAIN_COLORS, el, fmt, getJSON, showError, table } from "./common.js";

const params = new URLSearchParams(location.search);
const ids = (params.get("ids") ?? "").split(",").filter(Boolean);
const main = document.querySelector("main");
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
];
/** Primitives charted one by one; the rest that differ are summed. */
const CHARTED_PRIMITIVES = 8;

/** "+3,249 (+231.6%)" against the baseline, or "=". */
function delta(value, base, digits = 0) {
  if (value === null || base === null) return "";
  const change = value - base;
  if (change === 0) return "=";
  const amount = digits === 0 ? fmt.int(Math.abs(change)) : fmt.dec(Math.abs(change), digits);
  const relative = base !== 0
    ? ` (${change > 0 ? "+" : "−"}${fmt.dec((100 * Math.abs(change)) / Math.abs(base))}%)`
    : "";
  return `${change > 0 ? "+" : "−"}${amount}${relative}`;
}

const sameInEveryRun = (row) => row.values.every((v) => v === row.values[0]);

function cells(rows) {
  return rows.map((r) => {
    const digits = r.unit === "ms" ? 3 : 0;
    const show = (v) => (v === null ? "-" : digits ? fmt.dec(v, digits) : fmt.int(v));
    const base = r.values[0];
    return [
      r.unit ? `${r.metric} (${r.unit})` : r.metric,
      ...r.values.flatMap((v, i) => (i === 0 ? [show(v)] : [show(v), delta(v, base, digits)])),
    ];
  });
}

function headers(comparison) {
  return [
    "metric",
    ...comparison.designs.flatMap((d, i) => (i === 0 ? [`${d} (baseline)`] : [d, "vs baseline"])),
  ];
}

let charts = [];
/** Designs the user left out of the charts (by name; the tables keep every design). */
const hiddenDesigns = new Set();

/** Indices of the designs the charts show. */
function charted(comparison) {
  return comparison.designs.map((_, i) => i).filter((i) =>
    !hiddenDesigns.has(comparison.designs[i])
  );
}

/**
 * Where the difference comes from: per design, its cycles by primitive minus the baseline's,
 * stacked (gains above zero, savings below), busy primitives only, the largest one by one.
 */
function differenceChart(comparison) {
  const domainOf = comparison.primitiveDomains ?? {};
  const rows = comparison.rows.filter((r) =>
    r.section === "primitive" && !r.metric.endsWith(" count") && domainOf[r.metric] !== "idle"
  );
  const differing = rows.filter((r) => !sameInEveryRun(r));
  const deltas = (r) => r.values.map((v) => (v ?? 0) - (r.values[0] ?? 0));
  const largest = (r) => Math.max(...deltas(r).map(Math.abs));
  differing.sort((a, b) => largest(b) - largest(a));
  const own = differing.slice(0, CHARTED_PRIMITIVES);
  const rest = differing.slice(CHARTED_PRIMITIVES);
  const shown = charted(comparison);
  const datasets = own.map((r, i) => ({
    label: r.metric,
    data: shown.map((d) => deltas(r)[d]),
    backgroundColor: PALETTE[i % PALETTE.length],
  }));
  if (rest.length > 0) {
    datasets.push({
      label: `${rest.length} other primitives`,
      data: shown.map((d) => rest.reduce((s, r) => s + deltas(r)[d], 0)),
      backgroundColor: "#bab0ac",
    });
  }
  document.getElementById("difference-note").textContent = differing.length === 0
    ? "Every busy primitive took the same cycles in every run."
    : `Each design's cycles by primitive minus the baseline's, over all threads (more above ` +
      `zero, fewer below): the ${differing.length} busy primitives whose time differs, the ` +
      `${own.length} largest on their own. Idle time is left out, and so are the ${
        rows.length - differing.length
      } primitives that took the same cycles in every run.`;
  stackedBars(
    "difference",
    shown.map((d) => comparison.designs[d]),
    datasets,
    "cycles against the baseline",
  );
}

/** A stacked bar chart, one bar per label, on canvas `id` (kept in `charts` to destroy). */
function stackedBars(id, labels, datasets, yTitle) {
  charts.push(
    new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true },
          y: { stacked: true, title: { display: true, text: yTitle } },
        },
      },
    }),
  );
}

function domainChart(comparison) {
  const withIdle = document.getElementById("include-idle").checked;
  const domainRows = comparison.rows.filter((r) =>
    r.section === "domain" && (withIdle || r.metric !== "idle")
  );
  document.getElementById("domains-title").textContent = withIdle
    ? "Time by domain, all threads"
    : "Busy time by domain, all threads (idle left out)";
  const shown = charted(comparison);
  stackedBars(
    "domains",
    shown.map((d) => comparison.designs[d]),
    domainRows.map((r) => ({
      label: r.metric,
      data: shown.map((d) => r.values[d] ?? 0),
      backgroundColor: DOMAIN_COLORS[r.metric] ?? "#999",
    })),
    "cycles",
  );
  document.getElementById("domains-table").replaceChildren(
    table(headers(comparison), cells(domainRows)),
  );
}

function primitiveTable(comparison) {
  const rows = comparison.rows.filter((r) => r.section === "primitive");
  const equal = rows.filter(sameInEveryRun).length;
  const showEqual = document.getElementById("show-equal").checked;
  document.getElementById("equal-count").textContent =
    `show the ${equal} rows equal in every run (hidden)`;
  const shown = showEqual ? rows : rows.filter((r) => !sameInEveryRun(r));
  document.getElementById("primitives").replaceChildren(
    table(headers(comparison), cells(shown), {
      caption: `${shown.length} of ${rows.length} rows`,
    }),
  );
}

async function render(baseline) {
  const query = `ids=${ids.map(encodeURIComponent).join(",")}` +
    (baseline ? `&baseline=${encodeURIComponent(baseline)}` : "");
  const comparison = await getJSON(`/api/compare?${query}`);
  hiddenDesigns.delete(comparison.designs[0]); // the baseline is always charted
  document.getElementById("title").textContent = `Compare: ${comparison.scenario}`;
  document.getElementById("subtitle").replaceChildren(
    `seed ${comparison.seed}; baseline ${comparison.designs[0]}. Reports: `,
    ...comparison.reports.flatMap((id, i) => [
      i ? ", " : "",
      el("a", { href: `/reports/${encodeURIComponent(id)}` }, comparison.designs[i]),
    ]),
  );
  const picker = document.getElementById("baseline");
  picker.replaceChildren(
    ...[...comparison.designs].sort().map((d) =>
      el("option", { value: d, selected: d === comparison.designs[0] }, d)
    ),
  );
  const differences = comparison.designs.slice(1).map((d, i) => [d, comparison.differences[i + 1]]);
  document.getElementById("differences-box").hidden = differences.length === 0;
  document.getElementById("differences").replaceChildren(
    ...differences.map(([design, list]) =>
      el("li", {}, el("b", {}, design), `: ${list.length === 0 ? "none" : list.join("; ")}`)
    ),
  );
  document.getElementById("headline").replaceChildren(
    table(
      headers(comparison),
      cells(
        comparison.rows.filter((r) =>
          ["run", "outcomes", "latency", "throughput", "memory"].includes(r.section)
        ),
      ),
      {
        caption:
          "Headline: run, outcomes (blast radius), guest operation latency and workload throughput",
      },
    ),
  );
  designToggles(comparison);
  drawCharts(comparison);
  primitiveTable(comparison);
  return comparison;
}

function drawCharts(comparison) {
  for (const chart of charts) chart.destroy();
  charts = [];
  differenceChart(comparison);
  domainChart(comparison);
}

/** A box per design (the baseline's fixed) to leave a far-off design out of the charts. */
function designToggles(comparison) {
  document.getElementById("chart-designs").replaceChildren(
    "In the charts: ",
    ...comparison.designs.map((design, i) => {
      const box = el("input", {
        type: "checkbox",
        checked: !hiddenDesigns.has(design) || i === 0,
        disabled: i === 0,
        "data-design": design,
      });
      box.addEventListener("change", () => {
        if (box.checked) hiddenDesigns.delete(design);
        else hiddenDesigns.add(design);
        drawCharts(comparison);
      });
      return el("label", {}, box, ` ${design} `);
    }),
  );
}

try {
  if (ids.length < 2) throw new Error("Pick at least two reports to compare on the report list.");
  let comparison = await render(params.get("baseline") ?? "");
  document.getElementById("baseline").addEventListener("change", async (event) => {
    const baseline = event.target.value;
    const url = new URL(location.href);
    url.searchParams.set("baseline", baseline);
    history.replaceState(null, "", url);
    comparison = await render(baseline).catch((error) => showError(main, error));
  });
  document.getElementById("include-idle").addEventListener(
    "change",
    () => drawCharts(comparison),
  );
  document.getElementById("show-equal").addEventListener(
    "change",
    () => primitiveTable(comparison),
  );
} catch (error) {
  showError(main, error);
}
