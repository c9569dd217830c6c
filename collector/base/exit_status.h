// fpshim's own exit statuses (a build's status is passed through as it is).
#pragma once

namespace fpshim {

// fpshim could not do its part: bad usage or rules, no libfpshim.so, no socket, a report not written.
inline constexpr int kExitSetupError = 2;
// `fpshim report` found no process in the spool: nothing was recorded.
inline constexpr int kExitNothingRecorded = 4;

// The build succeeded but unsuppressed findings at or above --fail-on remain (the gate).
inline constexpr int kExitGate = 3;

}  // namespace fpshim
