// The dynamic loader's own lookups, reached without going through our dlsym and dlvsym hooks
// (hooks_dlsym.cc): since libfpshim.so defines both, its own calls to "dlsym" would bind to
// them. glibc-specific, and the only place that is: libc's definitions are found by reading the
// loaded objects' dynamic symbol tables (GNU hash) through link maps (_dl_find_object, else dladdr1). Elsewhere
// (musl: FPSHIM_GLIBC 0, libc.h) nothing is interposed and libc_dlsym is the plain dlsym.
#pragma once

#include <dlfcn.h>

#include "libc.h"

namespace fpshim::dl {

using Dlsym = void* (*)(void*, const char*);
using Dlvsym = void* (*)(void*, const char*, const char*);

// The C library's dlsym and dlvsym (musl has no dlvsym). RTLD_NEXT through them is relative to
// the shim.
Dlsym libc_dlsym();

#if FPSHIM_GLIBC
Dlvsym libc_dlvsym();

// The loaded object (a struct link_map*) that contains `address`, or null.
void* object_at(const void* address);

// The address `object` itself defines `name` at (`version` null: its default version; else that
// version, or an unversioned definition), or null. Looks in that one object, not its dependencies.
void* defined_in(void* object, const char* name, const char* version);

// The C library's object and the shim's.
void* libc_object();
void* shim_object();
#endif

}  // namespace fpshim::dl
