// The engine benchmark's model as a plain C++ loop, the speed reference for cvmsim's engine
// (bench/peers/compare.ts builds it with g++ -O2 and runs it in the same session): 1000
// processes, each waiting a random delay of 1..1000 cycles and rescheduling, kept in a
// binary min-heap ordered by (time, sequence) like cvmsim's event queue, with the same
// SFC32 generator. Prints: cpp events/s <rate> events <n> seconds <t>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct Sfc32 {
  uint32_t a, b, c, d;
  uint32_t next() {
    uint32_t t = a + b + d;
    d += 1;
    a = b ^ (b >> 9);
    b = c + (c << 3);
    c = ((c << 21) | (c >> 11)) + t;
    return t;
  }
  // Uniform in [min, max], as cvmsim's Rng.int draws it.
  int64_t range(int64_t min, int64_t max) {
    double r = static_cast<double>(next()) / 4294967296.0;
    return min + static_cast<int64_t>(r * static_cast<double>(max - min + 1));
  }
};

struct Entry {
  double time;
  double tie;
  int32_t process;
};

static inline bool before(const Entry& x, const Entry& y) {
  return x.time < y.time || (x.time == y.time && x.tie < y.tie);
}

int main(int argc, char** argv) {
  const int64_t events = argc > 1 ? std::atoll(argv[1]) : 2000000;
  const int processes = 1000;
  for (int round = 0; round < 4; round++) {
    Sfc32 rng{0x9e3779b9u, 0x243f6a88u, 0xb7e15162u, 1u};
    for (int i = 0; i < 12; i++) rng.next();
    std::vector<Entry> heap;
    heap.reserve(processes);
    double sequence = 0;
    auto push = [&](Entry e) {
      heap.push_back(e);
      size_t i = heap.size() - 1;
      while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (before(heap[parent], e)) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = e;
    };
    // Replace the top with `e` and sift it down (a pop and a push in one).
    auto replaceTop = [&](Entry e) {
      size_t n = heap.size(), i = 0;
      for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
        if (!before(heap[child], e)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = e;
    };
    for (int p = 0; p < processes; p++) push({0.0, sequence++, p});
    auto start = std::chrono::steady_clock::now();
    int64_t done = 0;
    uint64_t checksum = 0;
    while (done < events) {
      Entry top = heap[0];
      checksum += static_cast<uint64_t>(top.process);
      double delay = static_cast<double>(rng.range(1, 1000));
      replaceTop({top.time + delay, sequence++, top.process});
      done++;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (round == 3) {
      std::printf("cpp events/s %.0f events %lld seconds %.3f checksum %llu\n", done / seconds,
                  static_cast<long long>(done), seconds, static_cast<unsigned long long>(checksum));
    }
  }
  return 0;
}
