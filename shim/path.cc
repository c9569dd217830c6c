#include "path.h"

#include <string.h>

#include "dotdot.h"

namespace fpshim {

long normalize_path(const char* base, size_t base_len, const char* path, char* out, size_t cap) {
  size_t n = 0;  // out[0..n) is the result so far, "" standing for "/"
  if (path[0] != '/') {
    if (base_len == 1) base_len = 0;
    if (base_len + 2 > cap) return -1;
    if (base != out) memcpy(out, base, base_len);
    n = base_len;
  }
  auto ends = [](char c) { return c == '/' || c == '\0'; };
  for (const char* p = path;;) {
    while (*p == '/') p++;
    if (*p == '\0') break;
    if (p[0] == '.' && ends(p[1])) {
      p++;
    } else if (p[0] == '.' && p[1] == '.' && ends(p[2])) {
      p += 2;
      while (n > 0 && out[--n] != '/') {
      }
    } else {
      const char* end = p + 1;
      while (!ends(*end)) end++;
      const size_t len = size_t(end - p);
      if (n + 1 + len + 1 > cap) return -1;
      out[n] = '/';
      memcpy(out + n + 1, p, len);
      n += 1 + len;
      p = end;
    }
  }
  if (n == 0) out[n++] = '/';
  out[n] = '\0';
  return long(n);
}

int climb_depth(const char* path) {
  // Usually the ".." components all come first.
  int leading = 0;
  const char* p = path;
  for (;; p++) {
    while (*p == '/') p++;
    if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
      leading++;
      p++;
    } else if (!(p[0] == '.' && (p[1] == '/' || p[1] == '\0'))) {
      break;
    }
  }
  if (!has_dotdot(p)) return leading;
  int depth = -leading, highest = leading;
  while (*p != '\0') {
    while (*p == '/') p++;
    const char* begin = p;
    while (*p != '/' && *p != '\0') p++;
    const size_t len = size_t(p - begin);
    if (len == 2 && begin[0] == '.' && begin[1] == '.') {
      if (--depth < -highest) highest = -depth;
    } else if (len != 0 && !(len == 1 && begin[0] == '.')) {
      depth++;
    }
  }
  return highest;
}

long glob_start(const char* pattern, bool brace, bool noescape, char* out, size_t cap, bool* lists) {
  size_t n = 0;
  long last_slash = -1;
  *lists = false;
  for (const char* p = pattern; *p != '\0'; p++) {
    char c = *p;
    if (c == '\\' && !noescape && p[1] != '\0') {
      c = *++p;
    } else if (c == '*' || c == '?' || c == '[' || (brace && c == '{')) {
      *lists = true;
      break;
    }
    if (n + 2 > cap) return -1;
    if (c == '/') last_slash = long(n);
    out[n++] = c;
  }
  if (*lists) {
    if (last_slash < 0) out[0] = '.';
    n = last_slash <= 0 ? 1 : size_t(last_slash);
  }
  out[n] = '\0';
  return long(n);
}

size_t format_decimal(unsigned long long v, char* out) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

namespace {

// The length of the digits at path[at..len) that end a component, or 0.
size_t number_at(const char* path, size_t at, size_t len) {
  size_t n = 0;
  while (at + n < len && path[at + n] >= '0' && path[at + n] <= '9') n++;
  return n > 0 && (at + n == len || path[at + n] == '/') ? n : 0;
}

// Does path[at..len) start with the component `name`?
bool component_at(const char* path, size_t at, size_t len, const char* name) {
  const size_t n = strlen(name);
  return at + n <= len && memcmp(path + at, name, n) == 0 && (at + n == len || path[at + n] == '/');
}

}  // namespace

size_t proc_link_prefix(const char* path, size_t len) {
  if (len < 8 || path[0] != '/' || (path[1] != 'd' && path[1] != 'p')) return 0;
  if (memcmp(path, "/dev/", 5) == 0) {
    static const char* const kStandard[] = {"stdin", "stdout", "stderr"};
    for (const char* name : kStandard)
      if (component_at(path, 5, len, name)) return 5 + strlen(name);
    if (!component_at(path, 5, len, "fd")) return 0;
    const size_t fd = number_at(path, 8, len);
    return fd > 0 ? 8 + fd : 0;
  }
  if (memcmp(path, "/proc/", 6) != 0) return 0;
  size_t at = 6, n = number_at(path, at, len);
  if (n == 0 || at + n == len) return 0;
  at += n + 1;
  if (component_at(path, at, len, "task")) {
    n = number_at(path, at + 5, len);
    if (n == 0 || at + 5 + n == len) return 0;
    at += 5 + n + 1;
  }
  if (component_at(path, at, len, "root")) return at + 4;
  if (component_at(path, at, len, "cwd")) return at + 3;
  if (!component_at(path, at, len, "fd")) return 0;
  n = number_at(path, at + 3, len);
  return n > 0 ? at + 3 + n : 0;
}

long rewrite_proc_self(char* path, size_t len, size_t cap, int (*pid)(), int (*tid)()) {
  static constexpr char kSelf[] = "/proc/self";
  static constexpr char kThreadSelf[] = "/proc/thread-self";
  if (len < sizeof kSelf - 1 || path[1] != 'p' || memcmp(path, "/proc/", 6) != 0) return long(len);
  size_t old_len;
  char repl[64];
  memcpy(repl, "/proc/", 6);
  size_t rlen = 6;
  auto is = [&](const char* prefix, size_t plen) {
    return len >= plen && memcmp(path, prefix, plen) == 0 && (len == plen || path[plen] == '/');
  };
  if (is(kSelf, sizeof kSelf - 1)) {
    old_len = sizeof kSelf - 1;
    rlen += format_decimal(static_cast<unsigned>(pid()), repl + rlen);
  } else if (is(kThreadSelf, sizeof kThreadSelf - 1)) {
    old_len = sizeof kThreadSelf - 1;
    rlen += format_decimal(static_cast<unsigned>(pid()), repl + rlen);
    memcpy(repl + rlen, "/task/", 6);
    rlen += 6;
    rlen += format_decimal(static_cast<unsigned>(tid()), repl + rlen);
  } else {
    return long(len);
  }
  const size_t new_len = len - old_len + rlen;
  if (new_len + 1 > cap) return -1;
  memmove(path + rlen, path + old_len, len - old_len + 1);
  memcpy(path, repl, rlen);
  return long(new_len);
}

}  // namespace fpshim
