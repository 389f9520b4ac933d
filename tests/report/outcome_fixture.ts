/**
 * A small run that ends in a guest outcome: one SNP guest under snp.sigbus whose buggy
 * driver hands the device a private page in its first virtio request (after the boot's
 * accept, at about 7.9 ms of the 20 ms run), so the writer gets SIGBUS. With
 * `virtio: "vmm"` the writer is the VM's own I/O thread (the guest goes with it); with
 * "daemon" it is the host's shared daemon (the guest loses its network); with "vhost" it is
 * a kernel thread (the host panics).
 *
 * @module
 */

import { scenario } from "../helpers.ts";

/** The scenario JSON (run it with tests/helpers.ts `load`/`run`). */
export function sigbusScenario(
  virtio: "vmm" | "daemon" | "vhost" = "vmm",
  name = "sigbus",
): Record<string, unknown> {
  return scenario({
    name,
    seed: 3,
    guests: [{
      vcpus: 1,
      memoryMiB: 8,
      workloads: [
        { kind: "accept-memory" },
        { kind: "loop", operation: "virtio-rr", iterations: 40 },
      ],
      faults: [{ kind: "dma-to-private", atMs: 0 }],
    }],
    choices: { virtio },
    designs: ["snp.sigbus"],
    stop: { when: "time", simulatedMs: 20 },
  });
}
