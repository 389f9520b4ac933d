#!/bin/bash
# A cvmsim sweep as a Slurm job array: one array task per shard.
#   sbatch docs/examples/sweep-slurm.sh
#   # when every task has finished:
#   deno task sim merge results/tdx-accept-growth--sweep--*/sweep.shard-*-of-8.json
#SBATCH --job-name=cvmsim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --output=logs/cvmsim-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR}"
deno run --allow-read --allow-write main.ts sweep scenarios/tdx-accept-growth.json \
  --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" \
  --jobs "${SLURM_CPUS_PER_TASK}" --quiet --out results
