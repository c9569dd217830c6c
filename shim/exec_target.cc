#include "exec_target.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"
#include "sys.h"

namespace fpshim {

namespace {

constexpr unsigned char kOurClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr char kDefaultPath[] = "/bin:/usr/bin";  // glibc's, when PATH is unset

bool regular_executable(int dirfd, const char* path) {
  struct stat st;
  return sys::faccessat(dirfd, path, X_OK) == 0 && sys::fstatat(dirfd, path, &st, 0) == 0 && S_ISREG(st.st_mode);
}

// From the first bytes of the file: an ELF of the other class, or (`depth` 0) a #! line naming one.
bool other_class(int dirfd, const char* path, int depth) {
  const int fd = sys::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[256];
  const long n = sys::pread(fd, head, sizeof head - 1, 0);
  sys::close(fd);
  if (n >= EI_NIDENT && memcmp(head, ELFMAG, SELFMAG) == 0)
    return static_cast<unsigned char>(head[EI_CLASS]) != kOurClass;
  if (depth > 0 || n < 3 || head[0] != '#' || head[1] != '!') return false;
  head[n] = '\0';
  char* interpreter = head + 2;
  while (*interpreter == ' ' || *interpreter == '\t') interpreter++;
  char* end = interpreter;
  while (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n') end++;
  if (end == interpreter || (*end == '\0' && n == long(sizeof head - 1))) return false;  // a line longer than we read
  *end = '\0';
  return other_class(AT_FDCWD, interpreter, depth + 1);
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
        t.other_class = other_class(AT_FDCWD, candidate, 0);
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
  t.runnable = t.other_class = false;
  if (empty_path) {
    char link[32] = "/proc/self/fd/";
    link[14 + format_decimal(static_cast<unsigned>(dirfd), link + 14)] = '\0';
    const long len = sys::readlink(link, t.path, sizeof t.path - 1);
    t.path[len > 0 && t.path[0] == '/' ? len : 0] = '\0';
    t.runnable = regular_executable(AT_FDCWD, link);
    t.other_class = t.runnable && other_class(AT_FDCWD, link, 0);
    return;
  }
  if (named == nullptr || named[0] == '\0') return;
  if (search && strchr(named, '/') == nullptr) return search_path(named, t);
  if (resolve_path(dirfd, named, t.path, sizeof t.path) <= 0) t.path[0] = '\0';
  t.runnable = regular_executable(dirfd, named);
  t.other_class = t.runnable && other_class(dirfd, named, 0);
}

}  // namespace fpshim
