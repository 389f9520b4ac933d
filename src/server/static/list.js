import { el, fmt, getJSON, showError, table } from "./common.js";

const cardsBox = document.getElementById("cards");
const target = document.getElementById("reports");
const button = document.getElementById("compare");
const selection = document.getElementById("selection");
const chosen = new Set();
const charts = [];
const compact = new Intl.NumberFormat("en-US", { notation: "compact" });

function update() {
  button.disabled = chosen.size < 2;
  selection.textContent = chosen.size === 0 ? "" : `${chosen.size} selected`;
}

button.addEventListener("click", () => {
  location.href = `/compare?ids=${[...chosen].map(encodeURIComponent).join(",")}`;
});

/** "+12.3%" of `value` against `base` ("" for the baseline itself). */
function change(value, base) {
  if (value === null || base === null || base === 0) return "";
  const percent = (100 * (value - base)) / base;
  if (Math.abs(percent) < 0.05) return "=";
  return `${percent > 0 ? "+" : "−"}${fmt.dec(Math.abs(percent))}%`;
}

function compareHref(card, runs = card.runs) {
  const ids = runs.map((r) => encodeURIComponent(r.id)).join(",");
  return `/compare?ids=${ids}&baseline=${encodeURIComponent(card.baseline)}`;
}

function card(c, index) {
  const base = c.runs.find((r) => r.design === c.baseline)?.value ?? null;
  const canvasId = `card-chart-${index}`;
  const box = el(
    "article",
    { class: "card scenario", "data-scenario": c.scenario },
    el(
      "h3",
      {},
      el(
        "a",
        { href: c.runs.length > 1 ? compareHref(c) : `/reports/${c.runs[0].id}` },
        c.scenario,
      ),
      c.seed === undefined ? "" : el("span", { class: "muted" }, ` seed ${c.seed}`),
    ),
    el("p", { class: "question" }, c.question),
    el(
      "p",
      { class: "note" },
      `${c.headline.metric}${
        c.headline.lowerIsBetter ? " (lower is better)" : " (higher is better)"
      }` +
        `, against ${c.baseline}`,
    ),
    el(
      "div",
      { class: "chart small", style: `height: ${24 * c.runs.length + 36}px` },
      el("canvas", {
        id: canvasId,
        role: "img",
        "aria-label": `${c.headline.metric} per design for ${c.scenario}`,
        "data-designs": c.runs.length,
      }),
    ),
    c.runs.some((r) => r.outcome !== "")
      ? el(
        "ul",
        { class: "outcomes" },
        c.runs.filter((r) => r.outcome !== "").map((r) =>
          el("li", { class: "error" }, `${r.design}: ${r.outcome}`)
        ),
      )
      : null,
    el(
      "p",
      { class: "note links" },
      c.runs.length > 1
        ? [el("a", { href: compareHref(c) }, `compare its ${c.runs.length} designs`), " · "]
        : "",
      "reports: ",
      c.runs.flatMap((r, i) => [
        i ? ", " : "",
        el("a", { href: `/reports/${encodeURIComponent(r.id)}` }, r.design),
      ]),
    ),
  );
  return { box, draw: () => drawCard(c, canvasId, base) };
}

function drawCard(c, canvasId, base) {
  const canvas = document.getElementById(canvasId);
  charts.push(
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: c.runs.map((r) => {
          const delta = r.design === c.baseline ? "baseline" : change(r.value, base);
          return `${r.design} ${delta}`;
        }),
        datasets: [{
          label: c.headline.metric,
          data: c.runs.map((r) => r.value ?? 0),
          backgroundColor: c.runs.map((r) => r.design === c.baseline ? "#1d2430" : "#7fa7d6"),
        }],
      },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => fmt.headline(c.runs[item.dataIndex].value, c.headline.unit),
            },
          },
        },
        scales: {
          x: { beginAtZero: true, ticks: { maxTicksLimit: 4, callback: (v) => compact.format(v) } },
          y: { ticks: { autoSkip: false, font: { size: 11 } } },
        },
      },
    }),
  );
}

async function render() {
  const [cards, reports, sweeps] = await Promise.all([
    getJSON("/api/scenarios"),
    getJSON("/api/reports"),
    getJSON("/api/sweeps"),
  ]);
  for (const chart of charts.splice(0)) chart.destroy();
  if (cards.length === 0) {
    cardsBox.replaceChildren(
      el("p", {}, "No reports yet: run ", el("code", {}, "deno task start"), "."),
    );
  } else {
    const made = cards.map(card);
    cardsBox.replaceChildren(...made.map((m) => m.box));
    for (const m of made) m.draw();
  }
  document.getElementById("all-runs-summary").textContent =
    `All ${reports.length} runs, as a table`;
  chosen.clear();
  update();
  const rows = reports.map((r) => {
    const box = el("input", { type: "checkbox", "aria-label": `select ${r.id}` });
    box.addEventListener("change", () => {
      if (box.checked) chosen.add(r.id);
      else chosen.delete(r.id);
      update();
    });
    const ops = Object.entries(r.operations).map(([name, cycles]) => `${name} ${fmt.int(cycles)}`)
      .join(", ");
    return [
      box,
      el("a", { href: `/reports/${encodeURIComponent(r.id)}` }, r.scenario),
      r.design,
      String(r.seed),
      fmt.dec(r.simulatedMs, 3),
      String(r.vcpus),
      fmt.int(r.exits),
      ops || "-",
      r.hasTimeline
        ? el("a", { href: `/api/reports/${encodeURIComponent(r.id)}/trace.json` }, "Perfetto")
        : "-",
    ];
  });
  target.replaceChildren(
    table(
      [
        "",
        "scenario",
        "design",
        "seed",
        "simulated ms",
        "vCPUs",
        "exits",
        "mean latency (cycles)",
        "trace",
      ],
      rows,
      { textColumns: [0, 1, 2, 7, 8], caption: `${reports.length} reports` },
    ),
  );
  document.getElementById("sweeps").hidden = sweeps.length === 0;
  document.getElementById("sweep-list").replaceChildren(
    ...sweeps.map((s) =>
      el(
        "li",
        {},
        el("a", { href: `/sweeps/${encodeURIComponent(s.id)}` }, s.scenario),
        `: ${s.params.join(", ")} × ${s.designs.length} design(s), ${s.points} points`,
      )
    ),
  );
}

// While `deno task start` is still making reports, say which, and redraw as they land.
const progress = document.getElementById("progress");
let shown = -1;
async function poll() {
  const status = await getJSON("/api/status");
  if (status.finished) {
    progress.hidden = true;
    if (shown !== -1 && shown !== status.done) await render();
    return;
  }
  progress.hidden = false;
  const coming = [...status.running, ...status.pending];
  progress.replaceChildren(
    el(
      "b",
      {},
      `${status.done} of ${status.total} reports ready; ${coming.length} still coming`,
    ),
    status.running.length > 0 ? ` (running: ${status.running.join(", ")})` : "",
    status.failed.length > 0
      ? el("span", { class: "error" }, ` ${status.failed.length} failed`)
      : "",
  );
  if (status.done !== shown) {
    shown = status.done;
    await render();
  }
  setTimeout(() => poll().catch((error) => showError(cardsBox, error)), 1000);
}

try {
  await render();
  await poll();
} catch (error) {
  showError(cardsBox, error);
}
