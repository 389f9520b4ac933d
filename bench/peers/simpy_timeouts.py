"""The engine benchmark's model in SimPy 2.3.1 (Debian's python3-simpy), for comparison.

1000 processes; each waits a random delay of 1..1000 time units and reschedules, forever.
Prints one line: `simpy events/s <rate> events <n> seconds <t>` (events counted exactly).

Run with Debian's own interpreter (a pyenv shim may come first on PATH):
    /usr/bin/python3 bench/peers/simpy_timeouts.py [events]
"""

import random
import sys
import time

from SimPy.Simulation import Process, activate, hold, initialize, now, simulate  # noqa: F401

PROCESSES = 1000


wakeups = 0


class Sleeper(Process):
    def run(self, rng):
        global wakeups
        while True:
            wakeups += 1
            yield hold, self, rng.randint(1, 1000)


def main():
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    rng = random.Random(1)
    initialize()
    for i in range(PROCESSES):
        p = Sleeper(name=f"p{i}")
        activate(p, p.run(rng))
    # Each wake-up is one event; with delays uniform in 1..1000 (mean 500.5) the 1000
    # processes produce about 2 events per time unit, so run for events / 2 time units.
    until = events * 500.5 / PROCESSES
    start = time.perf_counter()
    simulate(until=until)
    seconds = time.perf_counter() - start
    print(f"simpy events/s {wakeups / seconds:.0f} events {wakeups} seconds {seconds:.3f}")


if __name__ == "__main__":
    main()
