#include "real.h"

#include <dlfcn.h>
#include <string.h>

#include "sys.h"

namespace fpshim::real {

#define FPSHIM_DEFINE_SLOT(name)          \
  constexpr char name_##name[] = #name; \
  constinit std::atomic<name##_slot::Pointer> slot_##name{&name##_slot::first_call<slot_##name, name_##name>};
FPSHIM_REAL_FUNCTIONS(FPSHIM_DEFINE_SLOT)
#undef FPSHIM_DEFINE_SLOT

void* lookup(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    static const char kPrefix[] = "fpshim: no definition of ";
    sys::write(2, kPrefix, sizeof kPrefix - 1);
    sys::write(2, name, strlen(name));
    sys::write(2, " after libfpshim.so\n", 20);
    sys::call(SYS_exit_group, 127);
  }
  return p;
}

}  // namespace fpshim::real
