// Why a process of the build ran without the shim seeing its file accesses.
#pragma once

#include <string_view>

namespace fpshim {

enum class Unmonitored {
  none,
  static_binary,  // no PT_INTERP: the dynamic loader, and with it LD_PRELOAD, never runs
  go,             // the Go runtime makes system calls itself, even when dynamically linked
  setuid,         // set-user-ID or set-group-ID: secure-execution mode ignores LD_PRELOAD
  capabilities,   // file capabilities: secure-execution mode as well
  elf_class,      // 32-bit (or foreign) program: our 64-bit shim cannot be loaded into it
  no_hello,       // an exec was seen but the new program never reported
  not_inspected,  // what it ran was gone before it could be inspected: whether LD_PRELOAD saw it is not known
};

// The JSON name ("static", "go", ...); "" for none.
constexpr std::string_view unmonitored_name(Unmonitored reason) {
  switch (reason) {
    case Unmonitored::none: return "";
    case Unmonitored::static_binary: return "static";
    case Unmonitored::go: return "go";
    case Unmonitored::setuid: return "setuid";
    case Unmonitored::capabilities: return "capabilities";
    case Unmonitored::elf_class: return "elf_class";
    case Unmonitored::no_hello: return "no_hello";
    case Unmonitored::not_inspected: return "not_inspected";
  }
  return "";
}

}  // namespace fpshim
