import { el, fmt, getJSON, showError, table } from "./common.js";

const id = decodeURIComponent(location.pathname.split("/").pop());
const main = document.querySelector("main");
const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/** Metrics worth offering first, then every other metric the points have. */
function metricNames(points) {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.metrics)))].sort();
  const first = names.filter((n) =>
    n === "simulatedMs" || n === "exits" || (n.startsWith("latency.") && n.endsWith(".mean")) ||
    n.startsWith("throughput.") || n.startsWith("outcomes.")
  );
  return [...first, ...names.filter((n) => !first.includes(n))];
}

/** Series: one per design and combination of the other parameters' values. */
function series(sweep, metric, xPath) {
  const others = sweep.identity.params.map((p) => p.path).filter((p) => p !== xPath);
  const groups = new Map();
  for (const point of sweep.points) {
    const label = [point.design, ...others.map((p) => `${p}=${point.values[p]}`)].join(", ");
    if (!groups.has(label)) groups.set(label, new Map());
    const byX = groups.get(label);
    const x = point.values[xPath];
    if (!byX.has(x)) byX.set(x, []);
    const value = point.metrics[metric];
    if (value !== undefined) byX.get(x).push(value);
  }
  return [...groups].map(([label, byX]) => ({
    label,
    points: [...byX].filter(([, values]) => values.length > 0).map(([x, values]) => ({
      x,
      mean: values.reduce((s, v) => s + v, 0) / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
    })).sort((a, b) => (typeof a.x === "number" ? a.x - b.x : String(a.x).localeCompare(b.x))),
  }));
}

let chart;

function draw(sweep) {
  const metric = document.getElementById("metric").value;
  const xPath = document.getElementById("x").value;
  const numericX = sweep.points.every((p) => typeof p.values[xPath] === "number");
  const lines = series(sweep, metric, xPath);
  const reps = sweep.identity.repetitions;
  const datasets = lines.flatMap((line, i) => {
    const color = PALETTE[i % PALETTE.length];
    const main = {
      label: line.label,
      data: line.points.map((p) => ({ x: p.x, y: p.mean })),
      borderColor: color,
      backgroundColor: color,
      tension: 0,
    };
    if (reps < 2) return [main];
    const band = (key, fill) => ({
      label: `${line.label} ${key}`,
      data: line.points.map((p) => ({ x: p.x, y: p[key] })),
      borderWidth: 0,
      pointRadius: 0,
      backgroundColor: `${color}33`,
      fill,
      band: true,
    });
    return [band("min", false), band("max", "-1"), main];
  });
  chart?.destroy();
  const logx = document.getElementById("logx").checked && numericX;
  chart = new Chart(document.getElementById("chart"), {
    type: "line",
    data: {
      labels: numericX ? undefined : [...new Set(sweep.points.map((p) => p.values[xPath]))],
      datasets,
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: {
          type: numericX ? (logx ? "logarithmic" : "linear") : "category",
          title: { display: true, text: xPath },
        },
        y: {
          type: document.getElementById("logy").checked ? "logarithmic" : "linear",
          title: { display: true, text: metric },
        },
      },
      plugins: {
        legend: { labels: { filter: (item, data) => !data.datasets[item.datasetIndex].band } },
      },
    },
  });
  document.getElementById("table").replaceChildren(table(
    [xPath, "series", "mean", "min", "max"],
    lines.flatMap((line) =>
      line.points.map((
        p,
      ) => [String(p.x), line.label, fmt.dec(p.mean, 3), fmt.dec(p.min, 3), fmt.dec(p.max, 3)])
    ),
    { textColumns: [0, 1] },
  ));
}

try {
  const sweep = await getJSON(`/api/sweeps/${encodeURIComponent(id)}`);
  const { identity } = sweep;
  document.title = `${identity.scenario} sweep`;
  document.getElementById("title").textContent = `Sweep: ${identity.scenario}`;
  document.getElementById("subtitle").replaceChildren(
    `${sweep.points.length} points: `,
    identity.params.map((p) => `${p.path} = ${p.values.join(", ")}`).join("; "),
    `; designs ${identity.designs.join(", ")}; ${identity.repetitions} repetition(s). `,
    el("a", { href: `/api/sweeps/${encodeURIComponent(id)}/sweep.csv` }, "sweep.csv"),
  );
  const metricSelect = document.getElementById("metric");
  metricSelect.replaceChildren(
    ...metricNames(sweep.points).map((n) => el("option", { value: n }, n)),
  );
  const xSelect = document.getElementById("x");
  xSelect.replaceChildren(...identity.params.map((p) => el("option", { value: p.path }, p.path)));
  for (const control of ["metric", "x", "logx", "logy"]) {
    document.getElementById(control).addEventListener("change", () => draw(sweep));
  }
  draw(sweep);
  const crossover = sweep.crossover;
  if (crossover !== undefined) {
    document.getElementById("crossover-card").hidden = false;
    document.getElementById("crossover-note").textContent =
      `Where each design's overhead in ${crossover.metric} against ${crossover.baseline} ` +
      `first reaches each threshold, as a value of ${crossover.along} (interpolated between ` +
      'points; "not reached" within the sweep).';
    const xs = crossover.designs[0]?.overheadPercent.map((p) => p.x) ?? [];
    document.getElementById("crossover").replaceChildren(
      table(
        ["design", ...crossover.thresholdsPercent.map((t) => `${t}% at`)],
        crossover.designs.map((d) => [
          d.design,
          ...d.crossings.map((
            c,
          ) => (c.x === null ? "not reached" : fmt.dec(c.x, c.x < 10 ? 2 : 0))),
        ]),
        { caption: "Crossing points" },
      ),
      table(
        ["design", ...xs.map(String)],
        crossover.designs.map((
          d,
        ) => [d.design, ...d.overheadPercent.map((p) => `${fmt.dec(p.value, 2)}%`)]),
        { caption: `Overhead against ${crossover.baseline} at each ${crossover.along}` },
      ),
    );
  }
} catch (error) {
  showError(main, error);
}
