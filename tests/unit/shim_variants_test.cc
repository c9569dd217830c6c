// The shims side by side (shim/variants.h): which one a program's ELF header and loader ask for,
// where it is next to ours, and that a child's LD_PRELOAD carries exactly one of them.
#include <doctest/doctest.h>
#include <elf.h>
#include <string.h>

#include <string>
#include <vector>

#include "shim/exec_env.h"
#include "shim/variants.h"

namespace {

using fpshim::Abi;

std::vector<unsigned char> elf_header(unsigned char elf_class, uint16_t machine) {
  std::vector<unsigned char> head(sizeof(Elf64_Ehdr), 0);
  memcpy(head.data(), ELFMAG, SELFMAG);
  head[EI_CLASS] = elf_class;
  head[EI_DATA] = ELFDATA2LSB;
  memcpy(head.data() + offsetof(Elf32_Ehdr, e_machine), &machine, sizeof machine);
  return head;
}

Abi abi(unsigned char elf_class, uint16_t machine, const char* interpreter) {
  const auto head = elf_header(elf_class, machine);
  return fpshim::abi_of_elf(head.data(), head.size(), interpreter);
}

std::string variant(const char* lib, Abi a) {
  char out[256];
  return fpshim::variant_path(lib, a, out, sizeof out) ? std::string(out) : std::string("(none)");
}

}  // namespace

TEST_CASE("the ABI of a program is its ELF class and machine, and the C library its loader names") {
  CHECK(abi(ELFCLASS64, EM_X86_64, "/lib64/ld-linux-x86-64.so.2") == Abi::x86_64_glibc);
  CHECK(abi(ELFCLASS64, EM_X86_64, "/lib/ld-musl-x86_64.so.1") == Abi::x86_64_musl);
  CHECK(abi(ELFCLASS32, EM_386, "/lib/ld-linux.so.2") == Abi::i386_glibc);
  CHECK(abi(ELFCLASS32, EM_386, "/lib/ld-musl-i386.so.1") == Abi::none);  // no 32-bit musl shim
  CHECK(abi(ELFCLASS64, EM_AARCH64, "/lib/ld-linux-aarch64.so.1") == Abi::none);
  // No interpreter: static, nothing is preloaded, the children keep what we would give them.
  CHECK(abi(ELFCLASS32, EM_386, "") == fpshim::kOwnAbi);
  const auto bad = elf_header(ELFCLASS64, EM_X86_64);
  CHECK(fpshim::abi_of_elf(bad.data(), 10, "/lib64/ld-linux-x86-64.so.2") == Abi::none);  // truncated
}

TEST_CASE("the variants are found next to the shim a process was given, under fixed names") {
  CHECK(variant("/opt/fp/libfpshim.so", Abi::i386_glibc) == "/opt/fp/libfpshim-i386.so");
  CHECK(variant("/opt/fp/libfpshim.so", Abi::x86_64_musl) == "/opt/fp/libfpshim-musl.so");
  CHECK(variant("/opt/fp/libfpshim-musl.so", Abi::x86_64_glibc) == "/opt/fp/libfpshim.so");
  CHECK(variant("libfpshim.so", Abi::i386_glibc) == "libfpshim-i386.so");
  CHECK(variant("/opt/fp/libfpshim.so", Abi::none) == "(none)");
  CHECK(variant("", Abi::i386_glibc) == "(none)");
  // A shim under another name keeps its name for the children of its own ABI.
  CHECK(variant("/opt/fp/renamed.so", fpshim::kOwnAbi) == "/opt/fp/renamed.so");
  // FPSHIM_LIB names the x86-64 shim in every process of `fpshim run`: each reads it as its own.
  CHECK(variant("/opt/fp/libfpshim.so", fpshim::kOwnAbi) ==
        std::string("/opt/fp/") + fpshim::variant_name(fpshim::kOwnAbi));
  char small[8];
  CHECK_FALSE(fpshim::variant_path("/opt/fp/libfpshim.so", Abi::i386_glibc, small, sizeof small));
  CHECK(small[0] == '\0');
}

TEST_CASE("any variant in LD_PRELOAD counts as ours: a child gets exactly one, of its ABI") {
  CHECK(fpshim::is_variant("/x/libfpshim-i386.so", strlen("/x/libfpshim-i386.so")));
  CHECK(fpshim::is_variant("libfpshim-musl.so", strlen("libfpshim-musl.so")));
  CHECK_FALSE(fpshim::is_variant("/x/notlibfpshim.so", strlen("/x/notlibfpshim.so")));
  CHECK_FALSE(fpshim::is_variant("/x/libfpshim-i386.so.1", strlen("/x/libfpshim-i386.so.1")));

  std::string preload = "LD_PRELOAD=/opt/fp/libfpshim.so:/usr/lib/libother.so";
  std::vector<char*> envp = {preload.data(), nullptr};
  const fpshim::ShimEnv shim{"/opt/fp/libfpshim-i386.so", nullptr, 0};
  std::vector<std::string> got;
  fpshim::with_child_env(envp.data(), shim, true, [&](char* const* env, uint32_t) {
    for (size_t i = 0; env[i] != nullptr; i++) got.emplace_back(env[i]);
    return 0;
  });
  CHECK(got == std::vector<std::string>{"LD_PRELOAD=/opt/fp/libfpshim-i386.so:/usr/lib/libother.so"});
  got.clear();
  fpshim::with_child_env(envp.data(), shim, false, [&](char* const* env, uint32_t) {
    for (size_t i = 0; env[i] != nullptr; i++) got.emplace_back(env[i]);
    return 0;
  });
  CHECK(got == std::vector<std::string>{"LD_PRELOAD=/usr/lib/libother.so"});
}
