// The variant names and the ABI of an ELF program (variants.h). Pure: no system call.
#include "variants.h"

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace fpshim {

namespace {

constexpr const char* kNames[] = {"libfpshim.so", "libfpshim-i386.so", "libfpshim-musl.so", "libfpshim.so"};

#if defined(__x86_64__)
constexpr uint16_t kOwnMachine = EM_X86_64;
#elif defined(__i386__)
constexpr uint16_t kOwnMachine = EM_386;
#elif defined(__aarch64__)
constexpr uint16_t kOwnMachine = EM_AARCH64;
#else
constexpr uint16_t kOwnMachine = EM_NONE;
#endif
constexpr unsigned char kOwnClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr bool kOwnMusl = kOwnAbi == Abi::x86_64_musl;
static_assert(sizeof kNames / sizeof kNames[0] == size_t(Abi::count));

const char* last_component(const char* path, size_t len) {
  const char* p = path + len;
  while (p != path && p[-1] != '/') p--;
  return p;
}

}  // namespace

const char* variant_name(Abi abi) { return abi < Abi::count ? kNames[size_t(abi)] : ""; }

bool is_variant(const char* token, size_t len) {
  const char* base = last_component(token, len);
  const size_t base_len = size_t(token + len - base);
  for (const char* name : kNames)
    if (base_len == strlen(name) && memcmp(base, name, base_len) == 0) return true;
  return false;
}

bool variant_path(const char* lib, Abi abi, char* out, size_t cap) {
  if (cap != 0) out[0] = '\0';
  const size_t lib_len = strlen(lib);
  if (abi == Abi::none || lib_len == 0) return false;
  if (abi == kOwnAbi && !is_variant(lib, lib_len)) {
    if (lib_len >= cap) return false;
    memcpy(out, lib, lib_len + 1);
    return true;
  }
  const size_t dir_len = size_t(last_component(lib, lib_len) - lib);
  const char* name = variant_name(abi);
  const size_t name_len = strlen(name);
  if (dir_len + name_len >= cap) return false;
  memcpy(out, lib, dir_len);
  memcpy(out + dir_len, name, name_len + 1);
  return true;
}

Abi abi_of_elf(const unsigned char* head, size_t n, const char* interpreter) {
  if (n < sizeof(Elf32_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0 || head[EI_DATA] != ELFDATA2LSB) return Abi::none;
  if (interpreter[0] == '\0') return kOwnAbi;
  const bool musl = strstr(interpreter, "ld-musl-") != nullptr;
  uint16_t machine;
  memcpy(&machine, head + offsetof(Elf32_Ehdr, e_machine), sizeof machine);  // same offset in both classes
  if (head[EI_CLASS] == kOwnClass && machine == kOwnMachine && musl == kOwnMusl) return kOwnAbi;
  if (head[EI_CLASS] == ELFCLASS64 && machine == EM_X86_64) return musl ? Abi::x86_64_musl : Abi::x86_64_glibc;
  if (head[EI_CLASS] == ELFCLASS32 && machine == EM_386 && !musl) return Abi::i386_glibc;
  return Abi::none;
}

}  // namespace fpshim
