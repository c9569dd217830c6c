#include "fd_flags.h"

namespace fpshim {

constinit std::atomic<uint64_t> g_fd_flagged[kFlaggedFds / 64] = {};
constinit std::atomic<uint64_t> g_fd_listed[kFlaggedFds / 64] = {};

}  // namespace fpshim
