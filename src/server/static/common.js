// Shared helpers of the dashboard pages.

/** Colours of the time domains (and "busy" for pCPU and lock occupancy). */
export const DOMAIN_COLORS = {
  guest: "#3a9d5d",
  "tdx-module": "#8e44ad",
  firmware: "#a0522d",
  kvm: "#2f6fb3",
  vmm: "#e08e0b",
  wait: "#c0392b",
  idle: "#c4cad2",
  busy: "#5b6b7b",
};

/** Fetches JSON; throws with the server's error message. */
export async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

export const fmt = {
  int: (n) => Math.round(n).toLocaleString("en-US"),
  dec: (n, digits = 1) =>
    n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }),
  pct: (part, total) => (total > 0 ? `${(100 * part / total).toFixed(1)}%` : "-"),
  /** A headline value with its unit (src/report/headline.ts): "2,852.650 ms", "67.77 M/s". */
  headline: (value, unit) => {
    if (value === null) return "-";
    if (unit === "ms") return `${fmt.dec(value, 3)} ms`;
    if (unit === "1/s") {
      return value >= 1e6 ? `${fmt.dec(value / 1e6, 2)} M/s` : `${fmt.int(value)}/s`;
    }
    return `${fmt.int(value)} ${unit}`;
  },
};

/** Creates an element: el("td", { class: "text" }, "hello"). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A table from headers and rows of cells (strings, numbers or nodes), in a box that scrolls
 * sideways on its own when the table is wider than the page (its first column stays put).
 */
export function table(headers, rows, { caption, textColumns = [0] } = {}) {
  return el("div", { class: "table-scroll" }, bareTable(headers, rows, { caption, textColumns }));
}

function bareTable(headers, rows, { caption, textColumns }) {
  return el(
    "table",
    {},
    caption ? el("caption", { class: "muted" }, caption) : null,
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        headers.map((h, i) =>
          el("th", { scope: "col", class: textColumns.includes(i) ? "text" : null }, h)
        ),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((row) =>
        el(
          "tr",
          {},
          row.map((cell, i) =>
            cell instanceof Node
              ? el("td", { class: textColumns.includes(i) ? "text" : null }, cell)
              : el("td", { class: textColumns.includes(i) ? "text" : null }, cell)
          ),
        )
      ),
    ),
  );
}

/** Shows an error in place of a page section. */
export function showError(target, error) {
  target.replaceChildren(
    el("p", { class: "error", role: "alert" }, String(error.message ?? error)),
  );
}

/** Legend swatches for domains. */
export function legend(domains) {
  return el(
    "div",
    { class: "legend", "aria-hidden": "true" },
    domains.map((d) => el("span", { style: `--swatch: ${DOMAIN_COLORS[d] ?? "#999"}` }, d)),
  );
}
