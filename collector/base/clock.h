// The one clock of the collector: now, in nanoseconds.
#pragma once

#include <time.h>

#include <cstdint>

namespace fpshim {

// CLOCK_REALTIME for times a report shows, CLOCK_MONOTONIC for deadlines and intervals.
inline uint64_t now_ns(clockid_t clock = CLOCK_REALTIME) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

}  // namespace fpshim
