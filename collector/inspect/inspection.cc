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
  const ElfFacts& own = own_facts();
  bool foreign = own.elf_class != 0 &&
                 (elf.elf_class != own.elf_class || !elf.native_byte_order || elf.machine != own.machine);
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
  } else if (foreign) {
    out.reason = Unmonitored::elf_class;
    out.detail = elf.elf_class != own.elf_class
                     ? fmt::format("a {}-bit program: libfpshim.so ({}-bit) cannot be loaded into it",
                                   elf.elf_class == ELFCLASS32 ? 32 : 64, own.elf_class == ELFCLASS32 ? 32 : 64)
                     : "built for another machine: libfpshim.so cannot be loaded into it";
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
      return "another ELF class than libfpshim.so: the shim left itself out of its LD_PRELOAD";
    default: return std::string(unmonitored_name(reason));
  }
}

}  // namespace fpshim
