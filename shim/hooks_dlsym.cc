// dlsym and dlvsym: a program that fetches a hooked function by name, from a dlopen("libc.so.6")
// handle, RTLD_DEFAULT or RTLD_NEXT, gets the hook instead of libc's definition, so the door it
// opens is the one it would have had by calling the function. glibc-specific (dl_symbols.h);
// the musl shim leaves dlsym to musl (libc.h, README "Limits of LD_PRELOAD").
//
// Only libc's definitions are replaced: a request that finds another library's (an interposer
// loaded after us, such as ASan's runtime) is answered as libc would. A caller that defines the
// requested name itself is a wrapper of that function (ASan's interceptors, another preload):
// it is given libc's answer, because our hook would call its wrapper next and loop. Everything
// else is the real call, made last (a tail call) so that RTLD_NEXT stays relative to the caller.
#include <dlfcn.h>

#include "dl_symbols.h"
#include "hook.h"

#if FPSHIM_GLIBC

using namespace fpshim;

namespace {

// Our definition of `name`, if the caller should get it instead of what the lookup finds.
__attribute__((noinline)) void* instead(void* handle, const char* name, const char* version, const void* caller) {
  void* ours = dl::defined_in(dl::shim_object(), name, version);
  if (ours == nullptr) return nullptr;
  void* const caller_object = dl::object_at(caller);
  if (caller_object == dl::shim_object() || dl::defined_in(caller_object, name, nullptr) != nullptr) return nullptr;
  void* const found = version != nullptr ? dl::libc_dlvsym()(handle, name, version) : dl::libc_dlsym()(handle, name);
  return found != nullptr && found != ours && dl::object_at(found) == dl::libc_object() ? ours : nullptr;
}

}  // namespace

FPSHIM_DEFINE(void*, dlsym, (void* handle, const char* name)) {
  if (void* ours = instead(handle, name, nullptr, __builtin_return_address(0))) return ours;
  return dl::libc_dlsym()(handle, name);
}

FPSHIM_DEFINE(void*, dlvsym, (void* handle, const char* name, const char* version)) {
  if (void* ours = instead(handle, name, version, __builtin_return_address(0))) return ours;
  return dl::libc_dlvsym()(handle, name, version);
}

#endif
