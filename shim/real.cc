#include "real.h"

#include <dlfcn.h>
#include <string.h>

#include "dl_symbols.h"
#include "sys.h"

namespace fpshim::real {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // glibc's nonnull on the function types
#define FPSHIM_DEFINE_SLOT(name)        \
  constexpr char name_##name[] = #name; \
  constinit std::atomic<name##_slot::Pointer> slot_##name{&name##_slot::first_call<slot_##name, name_##name>};
FPSHIM_REAL_FUNCTIONS(FPSHIM_DEFINE_SLOT)
#undef FPSHIM_DEFINE_SLOT

#if FPSHIM_SYMBOL_VERSIONS
#define FPSHIM_VERSION(version) version
#else
#define FPSHIM_VERSION(version) ""
#endif
#define FPSHIM_DEFINE_VERSIONED_SLOT(name, which, version)                       \
  constexpr char name_##name##_##which[] = #name;                                \
  constexpr char version_##name##_##which[] = FPSHIM_VERSION(version);           \
  constinit std::atomic<Slot<decltype(&::name)>::Pointer> slot_##name##_##which{ \
      &Slot<decltype(&::name)>::first_call<slot_##name##_##which, name_##name##_##which, version_##name##_##which>};
FPSHIM_REAL_VERSIONED(FPSHIM_DEFINE_VERSIONED_SLOT)
#undef FPSHIM_DEFINE_VERSIONED_SLOT
#pragma GCC diagnostic pop

namespace {

long syscall_first_call(long n, long a, long b, long c, long d, long e, long f) {
  const auto p = reinterpret_cast<long (*)(long, ...)>(lookup("syscall"));
  slot_syscall.store(reinterpret_cast<Syscall>(p), std::memory_order_relaxed);
  return p(n, a, b, c, d, e, f);
}

}  // namespace

constinit std::atomic<Syscall> slot_syscall{&syscall_first_call};

void* lookup(const char* name, const char* version) {
  // Not dlsym itself: on glibc that is our hook (hooks_dlsym.cc).
  void* p = dl::libc_dlsym()(RTLD_NEXT, name);
#if FPSHIM_SYMBOL_VERSIONS
  // A hook of one version stands for the definition the program's reference would have bound to
  // without us: the next object's. Only libc's comes in versions, and there it is this version.
  // (dlvsym alone would skip an interposer's unversioned definition, such as ASan's realpath,
  // which gives a program built with ASan the allocating realpath over libc's GLIBC_2.2.5 one.)
  if (version != nullptr && version[0] != '\0' && (p == nullptr || dl::object_at(p) == dl::libc_object()))
    p = dl::libc_dlvsym()(RTLD_NEXT, name, version);
#else
  (void)version;
#endif
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
