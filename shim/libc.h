// What differs between the C libraries the shim is built for (shim/CMakeLists.txt
// fpshim_shim_variant): glibc on x86-64 (libfpshim.so) and i386 (libfpshim-i386.so), and musl on
// x86-64 (libfpshim-musl.so). Everything else in the shim is the same source for all three.
//
// - FPSHIM_GLIBC: the entry points only glibc exports are hooked (the fortified __*_chk and
//   __open*_2, statx, scandirat, close_range, closefrom, execveat, canonicalize_file_name,
//   fts64_open, renameat2; the aliases __open, __open64, __open_nocancel, __open64_nocancel,
//   _IO_fopen, _IO_file_fopen, _IO_file_open, __statfs, _IO_popen, __libc_system; dlsym and dlvsym,
//   whose interposition reads glibc's link maps, dl_symbols.h; the posix_spawn file actions, read
//   from glibc's private struct, spawn_actions.cc). musl's libc.so exports the rest, __xstat and
//   friends included (for binaries linked against glibc), so those hooks are built for it too.
//   dlsym is the one musl export the musl shim leaves alone (README "Limits of LD_PRELOAD").
// - FPSHIM_SYMBOL_VERSIONS: libc exports some functions in two versions (exports.map): glibc on
//   x86-64. Elsewhere one definition without a version serves, looked up with dlsym.
// - FPSHIM_CPU_FEATURES: the AVX2 scan is chosen from what glibc's ld.so found at start-up
//   (<sys/platform/x86.h>), or from the compiler's cpuid table on musl; i386 keeps the baseline.
// - musl's headers make the large-file names (open64, stat64, ...) macros for the plain ones; the
//   shim defines hooks under those names, so here they become declarations of their own.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#if defined(__GLIBC__)
#define FPSHIM_GLIBC 1
#else
#define FPSHIM_GLIBC 0
#endif

#if FPSHIM_GLIBC && defined(__x86_64__)
#define FPSHIM_SYMBOL_VERSIONS 1
#else
#define FPSHIM_SYMBOL_VERSIONS 0
#endif

#if defined(__x86_64__) && FPSHIM_GLIBC
#include <sys/platform/x86.h>
#define FPSHIM_CPU_HAS_AVX2() (CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(BMI1))
#elif defined(__x86_64__)
#define FPSHIM_CPU_HAS_AVX2() (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi"))
#endif

#if !FPSHIM_GLIBC
#undef open64
#undef openat64
#undef creat64
#undef fopen64
#undef freopen64
#undef stat64
#undef lstat64
#undef fstatat64
#undef scandir64
#undef ftw64
#undef nftw64
#undef glob64
#undef statfs64
#undef statvfs64
#define W_EXITCODE(status, signal) ((status) << 8 | (signal))
#ifndef GLOB_BRACE
#define GLOB_BRACE 0  // musl's glob knows no braces
#endif
struct stat64 : stat {};
struct statfs64 : statfs {};
struct statvfs64 : statvfs {};
typedef int (*__ftw_func_t)(const char*, const struct stat*, int);
typedef int (*__ftw64_func_t)(const char*, const struct stat64*, int);
typedef int (*__nftw_func_t)(const char*, const struct stat*, int, struct FTW*);
typedef int (*__nftw64_func_t)(const char*, const struct stat64*, int, struct FTW*);
extern "C" {
int open64(const char* path, int flags, ...);
int openat64(int dirfd, const char* path, int flags, ...);
int creat64(const char* path, mode_t mode);
FILE* fopen64(const char* path, const char* mode);
FILE* freopen64(const char* path, const char* mode, FILE* stream);
int stat64(const char* path, struct stat64* buf);
int lstat64(const char* path, struct stat64* buf);
int fstatat64(int dirfd, const char* path, struct stat64* buf, int flags);
int scandir64(const char* path, struct dirent*** list, int (*select)(const struct dirent*),
              int (*compare)(const struct dirent**, const struct dirent**));
int ftw64(const char* dir, __ftw64_func_t fn, int fds);
int nftw64(const char* dir, __nftw64_func_t fn, int fds, int flags);
int glob64(const char* pattern, int flags, int (*err)(const char*, int), glob_t* g);
int statfs64(const char* path, struct statfs64* buf);
int statvfs64(const char* path, struct statvfs64* buf);
}
#endif
