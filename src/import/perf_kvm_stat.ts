/**
 * Reads the text of `perf kvm stat report` (the VM-EXIT event): per exit reason its
 * samples, share of samples and of time, and min/max/avg handling time. The layout is
 * print_result() in perf's tools/perf/builtin-kvm.c:
 *
 * ```text
 * Analyze events for all VMs, all VCPUs:
 *
 *              VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time
 *
 *            MSR_WRITE     293428    25.35%     0.13%      0.59us  17873.02us      1.80us ( +-   4.63% )
 *
 * Total Samples:1157497, Total events handled time:413728274.66us.
 * ```
 *
 * perf's header lines (`perf report --header-only` of the same perf.data, put before the
 * report) give the recording's duration ("# sample duration : ... ms", print_sample_time()
 * in tools/perf/util/header.c).
 *
 * @module
 */

/** One reason's line. */
export interface StatRow {
  reason: string;
  line: number;
  samples: number;
  samplesPercent: number;
  timePercent: number;
  minUs: number;
  maxUs: number;
  avgUs: number;
}

/** A line that could not be read. */
export interface LineProblem {
  line: number;
  text: string;
  why: string;
}

/** What a report holds. */
export interface StatReport {
  format: "perf-kvm-stat";
  /** "all VCPUs", or the one vCPU the report is about. */
  vcpu: number | "all";
  rows: StatRow[];
  /**
   * How long the recording ran, from perf's header ("# sample duration : 30012.345 ms",
   * printed by `perf report --header-only` on the same perf.data), when present.
   */
  durationSeconds?: number;
  /** From the "Total Samples" line, when present. */
  totalSamples?: number;
  totalUs?: number;
  problems: LineProblem[];
}

const ROW =
  /^\s*(\S.*?)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)us\s+([\d.]+)us\s+([\d.]+)us(?:\s+\(\s*\+-\s*[\d.]+%\s*\))?\s*$/;
const TOTAL = /^\s*Total Samples:\s*(\d+),\s*Total events handled time:\s*([\d.]+)us\.?\s*$/;
const HEADER = /^\s*(\S.*?)\s+Samples\s+Samples%\s+Time%\s+Min Time\s+Max Time\s+Avg time\s*$/;

/** True when `text` looks like a perf kvm stat report. */
export function isPerfKvmStat(text: string): boolean {
  return /Samples\s+Samples%\s+Time%/.test(text.slice(0, 20_000));
}

/**
 * Parses a report. Lines that are neither a header, a row, a total nor blank are problems
 * with their line numbers.
 */
export function parsePerfKvmStat(text: string): StatReport {
  const report: StatReport = { format: "perf-kvm-stat", vcpu: "all", rows: [], problems: [] };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    const duration = /^#\s*sample duration\s*:\s*([\d.]+)\s*ms/.exec(trimmed);
    if (duration !== null) {
      report.durationSeconds = Number(duration[1]) / 1000;
      return;
    }
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const analyze = /^Analyze events for .*?(?:all VCPUs|VCPU (\d+)):?\s*$/.exec(trimmed);
    if (analyze !== null) {
      report.vcpu = analyze[1] === undefined ? "all" : Number(analyze[1]);
      return;
    }
    const header = HEADER.exec(raw);
    if (header !== null) {
      if (header[1] !== "VM-EXIT") {
        report.problems.push({
          line,
          text: trimmed,
          why: `the report is of ${header[1]} events; import reads the VM-EXIT report ` +
            "(perf kvm stat report --event=vmexit)",
        });
      }
      return;
    }
    const total = TOTAL.exec(raw);
    if (total !== null) {
      report.totalSamples = Number(total[1]);
      report.totalUs = Number(total[2]);
      return;
    }
    const row = ROW.exec(raw);
    if (row === null) {
      report.problems.push({ line, text: trimmed, why: "not a row of the report" });
      return;
    }
    report.rows.push({
      reason: row[1],
      line,
      samples: Number(row[2]),
      samplesPercent: Number(row[3]),
      timePercent: Number(row[4]),
      minUs: Number(row[5]),
      maxUs: Number(row[6]),
      avgUs: Number(row[7]),
    });
  });
  return report;
}
