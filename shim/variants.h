// The shims side by side: one per ABI, under a fixed name in one directory (build/bin, or where
// they are installed). A shim knows the path it was loaded from (FPSHIM_LIB, or its LD_PRELOAD
// entry: config.cc) and finds its siblings there; an exec hands the child the one of its ABI.
#pragma once

#include <features.h>  // __GLIBC__, which kOwnAbi depends on
#include <stddef.h>

namespace fpshim {

enum class Abi : unsigned char {
  x86_64_glibc,  // libfpshim.so
  i386_glibc,    // libfpshim-i386.so
  x86_64_musl,   // libfpshim-musl.so
  other,         // a native build on another machine (aarch64): libfpshim.so, for its own ABI only
  count,
  none = count,  // no shim exists for it (another machine, 32-bit musl)
};

#if defined(__x86_64__) && defined(__GLIBC__)
inline constexpr Abi kOwnAbi = Abi::x86_64_glibc;
#elif defined(__i386__) && defined(__GLIBC__)
inline constexpr Abi kOwnAbi = Abi::i386_glibc;
#elif defined(__x86_64__)
inline constexpr Abi kOwnAbi = Abi::x86_64_musl;
#else
inline constexpr Abi kOwnAbi = Abi::other;
#endif

// "libfpshim.so", "libfpshim-i386.so", "libfpshim-musl.so"; "" for Abi::none.
const char* variant_name(Abi abi);

// Is the last component of `token` (`len` bytes) the name of one of the variants?
bool is_variant(const char* token, size_t len);

// Writes to `out` the path of the variant for `abi` next to `lib` (the path this shim was given):
// `lib` itself if it is our own ABI's and does not carry another variant's name (a shim renamed
// keeps its name for its own children). Returns false, with `out` empty, if there is none.
bool variant_path(const char* lib, Abi abi, char* out, size_t cap);

// The ABI of the ELF program whose first bytes are `head` (`n` of them) and whose interpreter
// (PT_INTERP) is `interpreter` ("" for none): its class and machine, and glibc or musl by the
// loader's name. A program without an interpreter (static) is kOwnAbi: nothing is preloaded into
// it, but its children inherit the environment.
Abi abi_of_elf(const unsigned char* head, size_t n, const char* interpreter);

}  // namespace fpshim
