import { el, fmt, getJSON, showError, table } from "./common.js";

const target = document.getElementById("reports");
const button = document.getElementById("compare");
const selection = document.getElementById("selection");
const chosen = new Set();

function update() {
  button.disabled = chosen.size < 2;
  selection.textContent = chosen.size === 0 ? "" : `${chosen.size} selected`;
}

button.addEventListener("click", () => {
  location.href = `/compare?ids=${[...chosen].map(encodeURIComponent).join(",")}`;
});

async function render() {
  const reports = await getJSON("/api/reports");
  if (reports.length === 0) {
    target.replaceChildren(
      el("p", {}, "No reports yet: run ", el("code", {}, "deno task start"), "."),
    );
  } else {
    const byScenario = new Map();
    for (const r of reports) {
      const key = `${r.scenario} (seed ${r.seed})`;
      if (!byScenario.has(key)) byScenario.set(key, []);
      byScenario.get(key).push(r);
    }
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
    const groups = [...byScenario].filter(([, runs]) => runs.length > 1).map(([name, runs]) =>
      el(
        "li",
        {},
        el("a", {
          href: `/compare?ids=${runs.map((r) => encodeURIComponent(r.id)).join(",")}`,
        }, `${name}: compare its ${runs.length} designs`),
      )
    );
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
      groups.length > 0 ? el("h2", {}, "Comparisons") : null,
      groups.length > 0 ? el("ul", {}, groups) : null,
    );
  }
  const sweeps = await getJSON("/api/sweeps");
  if (sweeps.length > 0) {
    target.append(
      el("h2", {}, "Sweeps"),
      el(
        "ul",
        {},
        sweeps.map((s) =>
          el(
            "li",
            {},
            el("a", { href: `/sweeps/${encodeURIComponent(s.id)}` }, s.scenario),
            `: ${s.params.join(", ")} × ${s.designs.length} design(s), ${s.points} points`,
          )
        ),
      ),
    );
  }
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
  setTimeout(() => poll().catch((error) => showError(target, error)), 1000);
}

try {
  await render();
  await poll();
} catch (error) {
  showError(target, error);
}
