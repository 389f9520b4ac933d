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

/** The metric a sweep page opens on when the study names none: a latency, a throughput, time. */
function defaultMetric(names) {
  return names.find((n) => n.startsWith("latency.") && n.endsWith(".mean")) ??
    names.find((n) => n.startsWith("throughput.")) ?? "simulatedMs";
}

/** True when positive values grow by a steady factor (1, 2, 4, 8...): a log axis suits them. */
function geometric(values) {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (sorted.length < 3 || sorted[0] <= 0) return false;
  const ratios = sorted.slice(1).map((v, i) => v / sorted[i]);
  return sorted.at(-1) / sorted[0] >= 8 &&
    ratios.every((r) => r >= 1.5 && Math.abs(Math.log(r / ratios[0])) < 0.3);
}

/** The value of the metric select that charts the study's overhead against its baseline. */
const OVERHEAD = "crossover overhead";

/** A study's overhead (%) per design along its parameter, as series. */
function overheadSeries(crossover) {
  return crossover.designs.map((d) => ({
    label: d.design,
    points: d.overheadPercent.map((p) => ({ x: p.x, mean: p.value, min: p.value, max: p.value })),
  }));
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
  const overhead = metric === OVERHEAD && sweep.crossover !== undefined;
  const xSelect = document.getElementById("x");
  if (overhead) xSelect.value = sweep.crossover.along;
  xSelect.disabled = overhead;
  const xPath = xSelect.value;
  const numericX = sweep.points.every((p) => typeof p.values[xPath] === "number");
  const lines = overhead ? overheadSeries(sweep.crossover) : series(sweep, metric, xPath);
  const reps = overhead ? 1 : sweep.identity.repetitions;
  const yTitle = overhead
    ? `overhead in ${sweep.crossover.metric} against ${sweep.crossover.baseline} (%)`
    : metric;
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
  if (overhead) {
    // Threshold lines across the swept range.
    const xs = lines.flatMap((line) => line.points.map((p) => p.x));
    const [from, to] = [Math.min(...xs), Math.max(...xs)];
    for (const threshold of sweep.crossover.thresholdsPercent) {
      datasets.push({
        label: `${threshold}% threshold`,
        data: [{ x: from, y: threshold }, { x: to, y: threshold }],
        borderColor: "#5d6776",
        borderDash: [6, 4],
        borderWidth: 1,
        pointRadius: 0,
        threshold: true,
      });
    }
  }
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
          // On a log axis, tick the swept values themselves (1, 2, 4, 8...).
          afterBuildTicks: logx
            ? (axis) => {
              const swept = [...new Set(sweep.points.map((p) => p.values[xPath]))];
              axis.ticks = swept.sort((a, b) => a - b).map((value) => ({ value }));
            }
            : undefined,
        },
        y: {
          type: document.getElementById("logy").checked ? "logarithmic" : "linear",
          title: { display: true, text: yTitle },
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
  const names = metricNames(sweep.points);
  const crossoverOption = sweep.crossover === undefined ? [] : [
    el(
      "option",
      { value: OVERHEAD },
      `overhead in ${sweep.crossover.metric} against ${sweep.crossover.baseline} (%)`,
    ),
  ];
  metricSelect.replaceChildren(
    ...crossoverOption,
    ...names.map((n) => el("option", { value: n }, n)),
  );
  // Open on the study's own metric: its overhead when it is a crossover study.
  metricSelect.value = sweep.crossover !== undefined ? OVERHEAD : defaultMetric(names);
  const xSelect = document.getElementById("x");
  xSelect.replaceChildren(...identity.params.map((p) => el("option", { value: p.path }, p.path)));
  const first = identity.params[0];
  document.getElementById("logx").checked = first !== undefined &&
    first.values.every((v) => typeof v === "number") && geometric(first.values);
  xSelect.addEventListener("change", () => {
    const param = identity.params.find((p) => p.path === xSelect.value);
    document.getElementById("logx").checked = param !== undefined &&
      param.values.every((v) => typeof v === "number") && geometric(param.values);
  });
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
