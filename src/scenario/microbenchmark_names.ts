/**
 * The microbenchmarks cvmsim reproduces (src/calibrate/): the kvm-unit-tests `vmexit`
 * tests, named as the test prints them, and a TD's 4 KiB private-page acceptance.
 *
 * @module
 */

/** Test names, as printed by kvm-unit-tests x86/vmexit.c. */
export const MICROBENCHMARK_NAMES = [
  "cpuid",
  "vmcall",
  "inl_from_kernel",
  "inl_from_qemu",
  "ipi",
  "tscdeadline_immed",
  "self_ipi_sti_hlt",
  "rd_tsc_adjust_msr",
  "wr_tsc_adjust_msr",
  "td_accept_4k",
] as const;

/** A reproduced test name. */
export type MicrobenchmarkName = typeof MICROBENCHMARK_NAMES[number];
