#include "inspect/inspection.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "inspect/elf_facts.h"

namespace fpshim {

namespace {

constexpr size_t kMaxShebang = 256;  // the kernel reads no more of a script's first line

const ElfFacts& own_facts() {
  static const ElfFacts facts = [] {
    ElfFacts f;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      read_elf_facts(fd, f);
      close(fd);
    }
    return f;
  }();
  return facts;
}

std::string& shim_directory() {
  static std::string dir = [] {
    const char* lib = getenv("FPSHIM_LIB");
    std::string path = lib && *lib ? lib : "";
    if (path.empty()) {
      char exe[4096];
      ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      path.assign(exe, n > 0 ? size_t(n) : 0);
    }
    return path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  }();
  return dir;
}

// The shim a program of this ABI needs (shim/variants.h: class, machine, and the C library its
// loader says), or "" if no shim is built for it.
std::string shim_for(const ElfFacts& elf, const ElfFacts& own) {
  const bool musl = elf.interp.find("ld-musl-") != std::string::npos;
  if (!elf.native_byte_order) return "";
  if (elf.elf_class == ELFCLASS64 && elf.machine == EM_X86_64) return musl ? "libfpshim-musl.so" : "libfpshim.so";
  if (elf.elf_class == ELFCLASS32 && elf.machine == EM_386 && !musl) return "libfpshim-i386.so";
  if (elf.elf_class == own.elf_class && elf.machine == own.machine && !musl) return "libfpshim.so";
  return "";
}

std::string canonical(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (!real) return path;
  std::string out = real;
  free(real);
  return out;
}

// The interpreter named by "#!", or "" if `head` does not start a script.
std::string shebang_interpreter(std::string_view head) {
  if (!head.starts_with("#!")) return "";
  size_t begin = head.find_first_not_of(" \t", 2);
  if (begin == std::string_view::npos) return "";
  size_t end = head.find_first_of(" \t\n", begin);
  if (end == std::string_view::npos) end = head.size();
  return std::string(head.substr(begin, end - begin));
}

bool changes_ids(int fd, const struct stat& st, Credentials who) {
  bool setuid = (st.st_mode & S_ISUID) && st.st_uid != who.uid;
  bool setgid = (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != who.gid;
  struct statvfs vfs;
  if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) return false;
  return setuid || setgid;
}

Inspection judge_elf(int fd, const struct stat& st, const ElfFacts& elf, Credentials who) {
  Inspection out;
  out.readable = true;
  const std::string shim = shim_for(elf, own_facts());
  // libfpshim.so is the one `fpshim run` found, or the one the build preloads: there by definition.
  const bool no_shim = shim.empty() ||
                       (shim != "libfpshim.so" && access((shim_directory() + "/" + shim).c_str(), R_OK) != 0);
  if (!elf.executable) {
    return out;
  } else if (elf.go) {
    out.reason = Unmonitored::go;
    out.detail = fmt::format("a Go program{}: the Go runtime makes its own system calls, which LD_PRELOAD cannot see",
                             elf.has_interp ? "" : ", statically linked");
  } else if (!elf.has_interp) {
    out.reason = Unmonitored::static_binary;
    out.detail = "statically linked: LD_PRELOAD cannot see it";
  } else if (changes_ids(fd, st, who)) {
    out.reason = Unmonitored::setuid;
    out.detail = fmt::format("{}: the loader ignores LD_PRELOAD in secure-execution mode",
                             (st.st_mode & S_ISUID) && st.st_uid != who.uid
                                 ? fmt::format("set-user-ID (owner uid {})", st.st_uid)
                                 : fmt::format("set-group-ID (group gid {})", st.st_gid));
  } else if (who.uid != 0 && fgetxattr(fd, "security.capability", nullptr, 0) >= 0) {
    out.reason = Unmonitored::capabilities;
    out.detail = "privileged by file capabilities: the loader ignores LD_PRELOAD in secure-execution mode";
  } else if (no_shim) {
    out.reason = Unmonitored::elf_class;
    const std::string what = fmt::format("a {}-bit {} program{}", elf.elf_class == ELFCLASS32 ? 32 : 64,
                                         elf.machine == EM_X86_64 ? "x86-64"
                                         : elf.machine == EM_386  ? "i386"
                                                                  : "foreign-machine",
                                         elf.interp.find("ld-musl-") != std::string::npos ? " linked with musl" : "");
    out.detail = shim.empty() ? fmt::format("{}: no shim is built for its ABI", what)
                              : fmt::format("{}: {} is not next to libfpshim.so in {}", what, shim, shim_directory());
  }
  return out;
}

Inspection inspect(const std::string& path, Credentials who, bool may_be_script) {
  Inspection out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    out.gone = errno == ENOENT;
    return out;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return out;
  }
  char head[kMaxShebang];
  ssize_t n = pread(fd, head, sizeof head, 0);
  std::string interpreter = shebang_interpreter(std::string_view(head, n > 0 ? size_t(n) : 0));
  if (!interpreter.empty() && may_be_script) {
    close(fd);
    out = inspect(interpreter, who, false);
    out.readable = true;
    if (out.reason != Unmonitored::none) out.detail = fmt::format("its interpreter {} is {}", interpreter, out.detail);
    if (out.image.empty()) out.image = interpreter;
    return out;
  }
  ElfFacts elf;
  if (read_elf_facts(fd, elf)) out = judge_elf(fd, st, elf, who);
  else out.readable = true;  // not ELF: the exec fails, or binfmt_misc runs something
  close(fd);
  out.image = canonical(path);
  out.dev = uint64_t(st.st_dev);
  out.ino = uint64_t(st.st_ino);
  return out;
}

}  // namespace

void set_shim_directory(const std::string& dir) { shim_directory() = dir; }

std::string shim_for_program(const std::string& program, const std::string& library) {
  std::string path = program;
  ElfFacts elf;
  for (int depth = 0; depth < 2; depth++) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return library;
    char head[kMaxShebang];
    ssize_t n = pread(fd, head, sizeof head, 0);
    const bool is_elf = read_elf_facts(fd, elf);
    close(fd);
    if (is_elf) break;
    path = shebang_interpreter(std::string_view(head, n > 0 ? size_t(n) : 0));
    if (path.empty() || depth == 1) return library;
  }
  if (!elf.has_interp) return library;
  const std::string shim = shim_for(elf, own_facts());
  if (shim.empty()) return "";
  if (shim == "libfpshim.so") return library;
  const std::string sibling = library.substr(0, library.rfind('/') + 1) + shim;
  return access(sibling.c_str(), R_OK) == 0 ? sibling : "";
}

Credentials own_credentials() { return Credentials{getuid(), getgid()}; }

Inspection inspect_executable(const std::string& path, Credentials who) { return inspect(path, who, true); }

std::string unmonitored_detail(Unmonitored reason) {
  switch (reason) {
    case Unmonitored::no_hello:
      return "exec seen but the program never reported (its environment was scrubbed beyond repair, or it "
             "died before the shim started)";
    case Unmonitored::not_inspected:
      return "the program was gone (deleted or replaced) before fpshim could inspect what it ran: it may have "
             "been a static or Go program";
    case Unmonitored::elf_class:
      return "an ABI (ELF class, machine, C library) without its shim next to libfpshim.so: the shim left itself "
             "out of its LD_PRELOAD";
    default: return std::string(unmonitored_name(reason));
  }
}

}  // namespace fpshim
