import { DOMAIN_COLORS, el, fmt, getJSON, showError, table } from "./common.js";

const ids = (new URLSearchParams(location.search).get("ids") ?? "").split(",").filter(Boolean);
const main = document.querySelector("main");

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

function rowsFor(comparison, sections) {
  return comparison.rows.filter((r) => sections.includes(r.section)).map((r) => {
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

try {
  if (ids.length < 2) throw new Error("Pick at least two reports to compare on the report list.");
  const comparison = await getJSON(`/api/compare?ids=${ids.map(encodeURIComponent).join(",")}`);
  document.getElementById("title").textContent = `Compare: ${comparison.scenario}`;
  document.getElementById("subtitle").replaceChildren(
    `seed ${comparison.seed}; baseline ${comparison.designs[0]}. Reports: `,
    ...comparison.reports.flatMap((id, i) => [
      i ? ", " : "",
      el("a", { href: `/reports/${encodeURIComponent(id)}` }, comparison.designs[i]),
    ]),
  );
  document.getElementById("headline").replaceChildren(
    table(
      headers(comparison),
      rowsFor(comparison, ["run", "outcomes", "latency", "throughput", "memory"]),
      {
        caption:
          "Headline: run, outcomes (blast radius), guest operation latency and workload throughput",
      },
    ),
  );
  const domainRows = comparison.rows.filter((r) => r.section === "domain");
  new Chart(document.getElementById("domains"), {
    type: "bar",
    data: {
      labels: comparison.designs,
      datasets: domainRows.map((r) => ({
        label: r.metric,
        data: r.values.map((v) => v ?? 0),
        backgroundColor: DOMAIN_COLORS[r.metric] ?? "#999",
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true },
        y: { stacked: true, title: { display: true, text: "cycles" } },
      },
    },
  });
  document.getElementById("domains-table").replaceChildren(
    table(headers(comparison), rowsFor(comparison, ["domain"])),
  );
  document.getElementById("primitives").replaceChildren(
    table(headers(comparison), rowsFor(comparison, ["primitive"])),
  );
} catch (error) {
  showError(main, error);
}
