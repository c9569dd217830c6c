// Will LD_PRELOAD reach a program? Judged from its file, when an exec record names it (the file may
// be gone by the end of the build).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "inspect/unmonitored.h"

namespace fpshim {

struct Inspection {
  bool readable = false;  // the file was there and could be examined
  Unmonitored reason = Unmonitored::none;
  std::string detail;  // a human sentence when there is a reason
  std::string image;   // canonical path of what will run: the file, or a script's interpreter
  bool gone = false;   // there was no file at the path (deleted or renamed since the exec)
  uint64_t dev = 0;    // the identity of the image (the file, or a script's interpreter), when readable
  uint64_t ino = 0;
};

struct Credentials {
  uid_t uid;
  gid_t gid;
};

// Credentials of this process, which are the build's.
Credentials own_credentials();

// Inspects `path`: for a "#!" script its interpreter (one level); for an ELF file, in this order,
// a Go note (go), no PT_INTERP (static), set-ID bits that change the effective ids of `who`
// (setuid), file capabilities for a non-root user (capabilities), an ABI whose shim is not next
// to libfpshim.so (elf_class: libfpshim-i386.so for i386 glibc, libfpshim-musl.so for x86-64
// musl, none for any other).
Inspection inspect_executable(const std::string& path, Credentials who);

// Where the shims are: the directory of the libfpshim.so builds are given. By default that of
// $FPSHIM_LIB, else of the running fpshim.
void set_shim_directory(const std::string& dir);

// The shim to preload into `program` (for a #! script, into its interpreter): `library` for the
// ABI of libfpshim.so and for anything the loader does not run, the variant next to it for another
// ABI (libfpshim-i386.so, libfpshim-musl.so), or "" if there is none.
std::string shim_for_program(const std::string& program, const std::string& library);

// The sentence for a reason without a file behind it (no_hello).
std::string unmonitored_detail(Unmonitored reason);

}  // namespace fpshim
