#include "exec_target.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"
#include "sys.h"

namespace fpshim {

namespace {

constexpr char kDefaultPath[] = "/bin:/usr/bin";  // glibc's, when PATH is unset

bool regular_executable(int dirfd, const char* path) {
  sys::Stat st;
  return sys::faccessat(dirfd, path, X_OK) == 0 && sys::fstatat(dirfd, path, &st, 0) == 0 && S_ISREG(st.st_mode);
}

// What abi_of reads of a file at once: an ELF header with its program headers and the
// interpreter's name right after them (where linkers put them), or a #! line.
constexpr size_t kHead = 1024;

// `len` bytes at `offset` of the file open on `fd`, whose first `n` bytes are in `head`: copied
// from there if they are in it, else read.
long read_at(int fd, const char* head, long n, void* out, size_t len, uint64_t offset) {
  if (offset <= uint64_t(n) && len <= uint64_t(n) - offset) {
    memcpy(out, head + offset, len);
    return long(len);
  }
  return sys::pread(fd, out, len, long(offset));
}

// The PT_INTERP of the ELF file open on `fd` (its first `n` bytes in `head`) into `out`; "" if
// it has none.
template <class Ehdr, class Phdr>
void read_interpreter(int fd, const char* head, long n, char* out, size_t cap) {
  out[0] = '\0';
  Ehdr eh;
  memcpy(&eh, head, sizeof eh);
  if (eh.e_phentsize != sizeof(Phdr)) return;
  Phdr ph[32];
  const size_t count = eh.e_phnum < 32 ? eh.e_phnum : 32;
  const long got = read_at(fd, head, n, ph, count * sizeof(Phdr), eh.e_phoff);
  for (size_t i = 0; got > 0 && i < size_t(got) / sizeof(Phdr); i++) {
    if (ph[i].p_type != PT_INTERP) continue;
    const size_t len = ph[i].p_filesz < cap ? size_t(ph[i].p_filesz) : cap - 1;
    const long r = read_at(fd, head, n, out, len, ph[i].p_offset);
    out[r > 0 ? r : 0] = '\0';
    return;
  }
}

// The ABI of the program that runs: an ELF's by its header and interpreter, a #! script's
// (`depth` 0) by its interpreter's. Anything else is left to the kernel, as ours.
Abi abi_of(int dirfd, const char* path, int depth) {
  const int fd = sys::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kOwnAbi;
  char head[kHead];
  long n = sys::pread(fd, head, sizeof head - 1, 0);
  if (n >= long(sizeof(Elf32_Ehdr)) && memcmp(head, ELFMAG, SELFMAG) == 0) {
    const auto* h = reinterpret_cast<const unsigned char*>(head);
    char interpreter[256];
    if (h[EI_CLASS] == ELFCLASS64 && n >= long(sizeof(Elf64_Ehdr)))
      read_interpreter<Elf64_Ehdr, Elf64_Phdr>(fd, head, n, interpreter, sizeof interpreter);
    else if (h[EI_CLASS] == ELFCLASS32)
      read_interpreter<Elf32_Ehdr, Elf32_Phdr>(fd, head, n, interpreter, sizeof interpreter);
    else interpreter[0] = '\0';
    sys::close(fd);
    return abi_of_elf(h, size_t(n), interpreter);
  }
  sys::close(fd);
  if (depth > 0 || n < 3 || head[0] != '#' || head[1] != '!') return kOwnAbi;
  constexpr long kLine = 255;  // what was read of a #! line before kHead, as much as the kernel reads
  if (n > kLine) n = kLine;
  head[n] = '\0';
  char* interpreter = head + 2;
  while (*interpreter == ' ' || *interpreter == '\t') interpreter++;
  char* end = interpreter;
  while (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n') end++;
  if (end == interpreter || (*end == '\0' && n == kLine)) return kOwnAbi;  // a line longer than we read
  *end = '\0';
  return abi_of(AT_FDCWD, interpreter, depth + 1);
}

const char* path_variable() {
  for (char** e = environ; e != nullptr && *e != nullptr; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return kDefaultPath;
}

void search_path(const char* name, ExecTarget& t) {
  const size_t name_len = strlen(name);
  for (const char* p = path_variable();;) {
    const char* end = strchrnul(p, ':');
    const size_t dir_len = end == p ? 1 : size_t(end - p);  // an empty entry is the cwd
    char candidate[4096 + 256];
    if (dir_len + 1 + name_len < sizeof candidate) {
      memcpy(candidate, end == p ? "." : p, dir_len);
      candidate[dir_len] = '/';
      memcpy(candidate + dir_len + 1, name, name_len + 1);
      if (regular_executable(AT_FDCWD, candidate) && resolve_path(AT_FDCWD, candidate, t.path, sizeof t.path) > 0) {
        t.runnable = true;
        t.abi = abi_of(AT_FDCWD, candidate, 0);
        return;
      }
    }
    if (*end == '\0') return;
    p = end + 1;
  }
}

}  // namespace

void find_exec_target(int dirfd, const char* named, bool search, bool empty_path, ExecTarget& t) {
  t.path[0] = '\0';
  t.runnable = false;
  t.abi = kOwnAbi;
  if (empty_path) {
    char link[32] = "/proc/self/fd/";
    link[14 + format_decimal(static_cast<unsigned>(dirfd), link + 14)] = '\0';
    const long len = sys::readlink(link, t.path, sizeof t.path - 1);
    t.path[len > 0 && t.path[0] == '/' ? len : 0] = '\0';
    t.runnable = regular_executable(AT_FDCWD, link);
    t.abi = t.runnable ? abi_of(AT_FDCWD, link, 0) : kOwnAbi;
    return;
  }
  if (named == nullptr || named[0] == '\0') return;
  if (search && strchr(named, '/') == nullptr) return search_path(named, t);
  if (resolve_path(dirfd, named, t.path, sizeof t.path) <= 0) t.path[0] = '\0';
  t.runnable = regular_executable(dirfd, named);
  t.abi = t.runnable ? abi_of(dirfd, named, 0) : kOwnAbi;
}

}  // namespace fpshim
