// The executable a process runs, from the name the kernel executed (the shim's hello sends
// AT_EXECFN, which costs it no system call) and the process's cwd: a relative name joined to the
// cwd, symlinks resolved, and for a "#!" script its interpreter, as /proc/self/exe would have said.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace fpshim {

class ExecutableNames {
 public:
  // Resolved once per distinct (cwd, name); a file gone by then keeps the joined name.
  const std::string& resolve(std::string_view cwd, std::string_view executed);

 private:
  static constexpr size_t kMaxCached = 1 << 16;  // then start over: bounded memory
  std::unordered_map<std::string, std::string> cache_;
};

}  // namespace fpshim
