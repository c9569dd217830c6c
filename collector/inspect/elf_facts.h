// What an executable file's ELF headers say about how it will be loaded. Our own small reader:
// the ELF header, the program headers, PT_NOTE segments and (for Go) the section names.
#pragma once

#include <cstdint>
#include <string>

namespace fpshim {

struct ElfFacts {
  int elf_class = 0;  // ELFCLASS32 or ELFCLASS64
  bool native_byte_order = true;
  uint16_t machine = 0;     // EM_X86_64, ...
  bool executable = false;  // ET_EXEC or ET_DYN (not an object file or core dump)
  bool has_interp = false;  // a PT_INTERP: the dynamic loader runs (and honours LD_PRELOAD)
  std::string interp;
  bool go = false;  // a note owned by "Go" or a .note.go.buildid section
};

// Reads `fd` (a regular file). False if it is not an ELF file we can read.
bool read_elf_facts(int fd, ElfFacts& out);

}  // namespace fpshim
