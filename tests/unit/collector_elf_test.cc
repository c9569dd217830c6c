#include <doctest/doctest.h>

#include <elf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "inspect/elf_facts.h"
#include "inspect/inspection.h"
#include "inspect/inspection_cache.h"

using namespace fpshim;

namespace {

// A directory of hand-made executables, removed at the end.
struct TempDir {
  std::string path;
  TempDir() {
    char templ[] = "/tmp/fpshim-elf-XXXXXX";
    REQUIRE(mkdtemp(templ));
    path = templ;
  }
  ~TempDir() { REQUIRE(system(("rm -rf " + path).c_str()) == 0); }

  std::string write(const std::string& name, const std::string& bytes, mode_t mode = 0755) const {
    std::string file = path + "/" + name;
    std::ofstream(file, std::ios::binary) << bytes;
    chmod(file.c_str(), mode);
    return file;
  }
};

struct ElfSpec {
  bool is64 = true;
  uint16_t type = ET_DYN;
  bool interp = true;
  bool go_note = false;
  bool go_section = false;
  uint16_t machine = 0;  // 0: ours
  const char* loader = "/lib64/ld-linux-x86-64.so.2";
};

uint16_t own_machine() {
  ElfFacts own;
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  read_elf_facts(fd, own);
  close(fd);
  return own.machine;
}

template <typename T>
void put(std::string& out, size_t at, const T& value) {
  if (out.size() < at + sizeof value) out.resize(at + sizeof value, '\0');
  memcpy(out.data() + at, &value, sizeof value);
}

// An ELF file with just the headers the inspection reads: the ELF header, a PT_INTERP, a PT_NOTE
// (owner GNU, or Go) and, if asked, section headers naming .note.go.buildid.
template <typename Ehdr, typename Phdr, typename Shdr>
std::string make_elf(const ElfSpec& spec) {
  std::string out;
  const std::string interp = spec.loader;
  const std::string owner = spec.go_note ? std::string("Go\0\0", 4) : std::string("GNU\0", 4);
  const std::string names = std::string("\0.shstrtab\0", 11) + (spec.go_section ? ".note.go.buildid" : ".note.x") +
                            '\0';
  const size_t phoff = sizeof(Ehdr), nph = 2;
  const size_t interp_at = phoff + nph * sizeof(Phdr), note_at = interp_at + 64, names_at = note_at + 64;
  const size_t shoff = names_at + 64, nsh = 3;

  Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = spec.is64 ? ELFCLASS64 : ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = spec.type;
  eh.e_machine = spec.machine ? spec.machine : own_machine();
  eh.e_version = EV_CURRENT;
  eh.e_phoff = phoff;
  eh.e_ehsize = sizeof(Ehdr);
  eh.e_phentsize = sizeof(Phdr);
  eh.e_phnum = nph;
  eh.e_shoff = shoff;
  eh.e_shentsize = sizeof(Shdr);
  eh.e_shnum = nsh;
  eh.e_shstrndx = 1;
  put(out, 0, eh);

  Phdr first{}, note{};
  first.p_type = spec.interp ? PT_INTERP : PT_LOAD;
  first.p_offset = interp_at;
  first.p_filesz = interp.size() + 1;
  put(out, phoff, first);
  note.p_type = PT_NOTE;
  note.p_offset = note_at;
  note.p_filesz = 12 + 4 + 8;
  note.p_align = 4;
  put(out, phoff + sizeof(Phdr), note);
  out.resize(interp_at, '\0');
  out += interp + '\0';

  uint32_t nhdr[3] = {uint32_t(owner.find('\0') + 1), 8, 4};
  out.resize(note_at, '\0');
  out.append(reinterpret_cast<const char*>(nhdr), sizeof nhdr);
  out += owner + "buildid!";
  out.resize(names_at, '\0');
  out += names;

  Shdr none{}, strtab{}, named{};
  strtab.sh_name = 1;
  strtab.sh_type = SHT_STRTAB;
  strtab.sh_offset = names_at;
  strtab.sh_size = names.size();
  named.sh_name = 11;
  named.sh_type = SHT_NOTE;
  put(out, shoff, none);
  put(out, shoff + sizeof(Shdr), strtab);
  put(out, shoff + 2 * sizeof(Shdr), named);
  return out;
}

std::string elf64(const ElfSpec& s) { return make_elf<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(s); }
std::string elf32(ElfSpec s) {
  s.is64 = false;
  return make_elf<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(s);
}

Credentials me() { return own_credentials(); }

}  // namespace

TEST_CASE("ELF facts from hand-made headers") {
  TempDir dir;
  ElfFacts f;
  auto facts = [&](const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    bool ok = read_elf_facts(fd, f);
    close(fd);
    return ok;
  };
  REQUIRE(facts(dir.write("dyn", elf64({}))));
  CHECK(f.elf_class == ELFCLASS64);
  CHECK(f.has_interp);
  CHECK(f.interp == "/lib64/ld-linux-x86-64.so.2");
  CHECK_FALSE(f.go);
  CHECK(f.executable);

  REQUIRE(facts(dir.write("gonote", elf64({.go_note = true}))));
  CHECK(f.go);
  REQUIRE(facts(dir.write("gosection", elf64({.go_section = true}))));
  CHECK(f.go);
  REQUIRE(facts(dir.write("i386", elf32({.machine = EM_386}))));
  CHECK(f.elf_class == ELFCLASS32);
  CHECK(f.has_interp);
  CHECK(f.machine == EM_386);

  CHECK_FALSE(facts(dir.write("text", "#!/bin/sh\necho hi\n")));
  CHECK_FALSE(facts(dir.write("short",
                              "\x7f"
                              "EL")));
  std::string truncated = elf64({});
  truncated.resize(100);  // the program headers are cut off
  CHECK_FALSE(facts(dir.write("truncated", truncated)));

  // Hostile sizes must not make the reader allocate or loop without bound.
  std::string huge = elf64({});
  Elf64_Ehdr eh;
  memcpy(&eh, huge.data(), sizeof eh);
  eh.e_phnum = 0xffff;
  eh.e_shnum = 0xffff;
  memcpy(huge.data(), &eh, sizeof eh);
  CHECK_FALSE(facts(dir.write("huge", huge)));
}

TEST_CASE("inspection reasons") {
  TempDir dir;
  auto reason = [&](const std::string& name, const std::string& bytes, Credentials who = me()) {
    return inspect_executable(dir.write(name, bytes), who).reason;
  };
  CHECK(reason("dyn", elf64({})) == Unmonitored::none);
  CHECK(reason("static", elf64({.interp = false})) == Unmonitored::static_binary);
  CHECK(reason("go_dynamic", elf64({.go_note = true})) == Unmonitored::go);
  CHECK(reason("go_static", elf64({.interp = false, .go_note = true})) == Unmonitored::go);
  CHECK(reason("go_section", elf64({.go_section = true})) == Unmonitored::go);
  // elf_class: an ABI without its shim next to libfpshim.so (set_shim_directory, here an empty one).
  set_shim_directory(dir.path);
  CHECK(reason("i386", elf32({.machine = EM_386})) == Unmonitored::elf_class);
  CHECK(reason("musl", elf64({.loader = "/lib/ld-musl-x86_64.so.1"})) == Unmonitored::elf_class);
  CHECK(reason("i386_static", elf32({.interp = false, .machine = EM_386})) == Unmonitored::static_binary);
  CHECK(reason("object", elf64({.type = ET_REL, .interp = false})) == Unmonitored::none);
  CHECK(reason("text", "just text\n") == Unmonitored::none);

  Inspection go = inspect_executable(dir.path + "/go_static", me());
  CHECK(go.detail.find("Go program, statically linked") != std::string::npos);
  Inspection i386 = inspect_executable(dir.path + "/i386", me());
  CHECK(i386.detail.find("32-bit") != std::string::npos);
  CHECK(i386.detail.find("libfpshim-i386.so is not next to libfpshim.so") != std::string::npos);
  CHECK(inspect_executable(dir.path + "/musl", me()).detail.find("libfpshim-musl.so") != std::string::npos);
  // With the variants there, those programs are monitored; 32-bit musl and other machines never are.
  dir.write("libfpshim-i386.so", "");
  dir.write("libfpshim-musl.so", "");
  CHECK(reason("i386", elf32({.machine = EM_386})) == Unmonitored::none);
  CHECK(reason("musl", elf64({.loader = "/lib/ld-musl-x86_64.so.1"})) == Unmonitored::none);
  CHECK(reason("musl32", elf32({.machine = EM_386, .loader = "/lib/ld-musl-i386.so.1"})) == Unmonitored::elf_class);
  CHECK(reason("arm", elf64({.machine = EM_AARCH64})) == Unmonitored::elf_class);
  CHECK(shim_for_program(dir.path + "/i386", "/opt/fp/libfpshim.so") == "");  // not in /opt/fp
  CHECK(shim_for_program(dir.path + "/musl", dir.path + "/libfpshim.so") == dir.path + "/libfpshim-musl.so");
  CHECK(shim_for_program(dir.path + "/dyn", "/opt/fp/libfpshim.so") == "/opt/fp/libfpshim.so");
  CHECK(shim_for_program(dir.path + "/arm", "/opt/fp/libfpshim.so") == "");
  // A script: its interpreter's ABI.
  const std::string musl_script = dir.write("musl_script", "#!" + dir.path + "/musl -x\n");
  CHECK(shim_for_program(musl_script, dir.path + "/libfpshim.so") == dir.path + "/libfpshim-musl.so");
  CHECK(shim_for_program(dir.write("plain_text", "hello\n"), "/opt/fp/libfpshim.so") == "/opt/fp/libfpshim.so");

  Inspection missing = inspect_executable(dir.path + "/nope", me());
  CHECK_FALSE(missing.readable);
  CHECK(missing.reason == Unmonitored::none);

  // Scripts: their interpreter is what runs (one level only).
  std::string static_interp = dir.path + "/static";
  Inspection script = inspect_executable(dir.write("script", "#!" + static_interp + " -x\nwhatever\n"), me());
  CHECK(script.reason == Unmonitored::static_binary);
  CHECK(script.detail.find("its interpreter " + static_interp + " is statically linked") == 0);
  CHECK(script.image == static_interp);
  std::string nested = dir.write("nested", "#!" + dir.path + "/script\n");
  CHECK(inspect_executable(nested, me()).reason == Unmonitored::none);

  Inspection sh = inspect_executable("/bin/sh", me());
  CHECK(sh.readable);
  CHECK(sh.reason == Unmonitored::none);
  char* real = realpath("/bin/sh", nullptr);
  CHECK(sh.image == real);
  free(real);
}

TEST_CASE("set-ID bits count only when they change the ids") {
  TempDir dir;
  std::string file = dir.write("setgid", elf64({}), 02755);
  Credentials who = me();
  CHECK(inspect_executable(file, who).reason == Unmonitored::none);  // our own group: no change
  Credentials other = who;
  other.gid = who.gid + 1;
  Inspection i = inspect_executable(file, other);
  CHECK(i.reason == Unmonitored::setuid);
  CHECK(i.detail.find("set-group-ID") == 0);

  std::string setuid_file = dir.write("setuid", elf64({}), 04755);
  other = who;
  other.uid = who.uid + 1;
  CHECK(inspect_executable(setuid_file, other).reason == Unmonitored::setuid);
  CHECK(inspect_executable(dir.write("setgid_noexec", elf64({}), 02745), Credentials{who.uid, who.gid + 1}).reason ==
        Unmonitored::none);  // S_ISGID without group execute is mandatory locking, not set-group-ID
}

TEST_CASE("file capabilities mean secure execution for a non-root user") {
  TempDir dir;
  std::string file = dir.write("capped", elf64({}));
  vfs_cap_data cap{};
  cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  cap.data[0].permitted = 1u << CAP_NET_RAW;
  if (setxattr(file.c_str(), "security.capability", &cap, XATTR_CAPS_SZ_2, 0) != 0) {
    MESSAGE("cannot set file capabilities here (needs CAP_SETFCAP): skipped");
    return;
  }
  CHECK(inspect_executable(file, Credentials{1000, 1000}).reason == Unmonitored::capabilities);
  CHECK(inspect_executable(file, Credentials{0, 0}).reason == Unmonitored::none);  // root gains nothing
}

TEST_CASE("the inspection cache remembers deleted files across a restart") {
  TempDir dir;
  std::string log = dir.path + "/inspections";
  std::string tool = dir.write("tool", elf64({.interp = false}));
  {
    InspectionCache cache(me());
    cache.keep_log(log);
    CHECK(cache.inspect(tool).reason == Unmonitored::static_binary);
    std::string changed = elf64({});
    dir.write("tool", changed);  // rewritten in place: a new inspection
    CHECK(cache.inspect(tool).reason == Unmonitored::none);
    dir.write("tool", elf64({.interp = false}));
    CHECK(cache.inspect(tool).reason == Unmonitored::static_binary);
  }
  unlink(tool.c_str());
  std::ofstream(log, std::ios::app) << "{\"torn\": \n";  // a line cut short by a crash
  InspectionCache successor(me());
  successor.keep_log(log);
  Inspection gone = successor.inspect(tool);
  CHECK(gone.reason == Unmonitored::static_binary);
  CHECK(gone.readable);
  CHECK_FALSE(successor.inspect(dir.path + "/never-there").readable);
}
