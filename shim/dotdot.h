// The scan the pre-filter makes of every path it cannot reject by its first byte: does it contain
// "..", which could climb back into a watched tree? Two consecutive dots anywhere is the cheap
// superset it tests. Blocks of 16 (SSE2) or 32 (AVX2) bytes: the first is read from `s` as it is
// unless that would cross into the next page, the others are aligned, so no read touches a page
// the string does not reach. Reading past the NUL within a page is what the sanitizers object to,
// hence no_sanitize.
#pragma once

#include <stdint.h>

#include "valgrind.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#define FPSHIM_SCAN_ATTRIBUTES no_sanitize("address", "thread", "undefined")

// What uses general registers only (filter.h Filter::walk()).
#if defined(__x86_64__) || defined(__i386__)
#define FPSHIM_GENERAL_REGS target("general-regs-only")
#else
#define FPSHIM_GENERAL_REGS
#endif

namespace fpshim {

// Byte by byte: where there is no vector unit, and under Valgrind (valgrind.h).
struct ScanPortable {
  // May a scan read a string past its NUL (within its page)? (filter.h: general registers only.)
  __attribute__((FPSHIM_GENERAL_REGS)) static bool whole_blocks() { return false; }
  static unsigned has_dotdot(const char* s) {
    for (; *s != '\0'; s++)
      if (s[0] == '.' && s[1] == '.') return true;
    return false;
  }
};

#if defined(__x86_64__) || defined(__SSE2__)

// 32 dots, defined out of line so that the compiler compares with this constant in memory (one
// instruction) instead of building it in a register on every call (three).
extern const char kDots[32];

// `pairs` and `nuls`: one bit per byte of a block. Non-zero if a pair of dots ends before the first
// NUL. (Scans return such a mask, not a bool: merging bools from several exits costs a setne.)
inline unsigned pair_before_nul(unsigned pairs, unsigned nuls) { return pairs & (nuls ^ (nuls - 1)); }

struct ScanSse2 {
  __attribute__((FPSHIM_GENERAL_REGS)) static bool whole_blocks() { return true; }
  __attribute__((FPSHIM_SCAN_ATTRIBUTES)) static unsigned has_dotdot(const char* s) {
    const __m128i dot = _mm_load_si128(reinterpret_cast<const __m128i*>(kDots));
    const __m128i nul = _mm_setzero_si128();
    const uintptr_t addr = reinterpret_cast<uintptr_t>(s);
    const __m128i* block;
    unsigned dots, nuls, pairs;
    if (__builtin_expect((addr & 4095) <= 4096 - 16, 1)) {
      // Reads 16 bytes from `s`, past its NUL when the string is shorter: deliberate and safe, since
      // the test above keeps the read inside the page `s` is in. GCC sees the over-read of a short
      // array once this is inlined into a caller that passes one, hence the pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
#pragma GCC diagnostic pop
      dots = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)));
      nuls = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)));
      pairs = dots & (dots << 1);
      if (__builtin_expect(nuls != 0, 1)) return pair_before_nul(pairs, nuls);
      if (pairs != 0) return true;
      block = reinterpret_cast<const __m128i*>((addr + 16) & ~uintptr_t(15));  // may overlap: harmless
    } else {
      block = reinterpret_cast<const __m128i*>(addr & ~uintptr_t(15));
      const __m128i v = _mm_load_si128(block++);
      const unsigned valid = 0xffffu << (addr & 15);
      dots = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot))) & valid;
      nuls = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul))) & valid;
      pairs = dots & (dots << 1);
      if (pairs | nuls) return pair_before_nul(pairs, nuls);
    }
    unsigned carry = reinterpret_cast<const char*>(block)[-1] == '.';
    do {
      const __m128i v = _mm_load_si128(block++);
      dots = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)));
      nuls = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)));
      pairs = dots & ((dots << 1) | carry);
      carry = dots >> 15;
    } while ((pairs | nuls) == 0);
    return pair_before_nul(pairs, nuls);
  }
};

// Call only where the CPU has AVX2 and BMI1 (hook.h checks).
#define FPSHIM_AVX2_TARGET target("avx2,bmi")
struct ScanAvx2 {
  __attribute__((FPSHIM_GENERAL_REGS)) static bool whole_blocks() { return true; }
  __attribute__((FPSHIM_AVX2_TARGET, FPSHIM_SCAN_ATTRIBUTES)) static unsigned has_dotdot(const char* s) {
    const __m256i dot = _mm256_load_si256(reinterpret_cast<const __m256i*>(kDots));
    const __m256i nul = _mm256_setzero_si256();
    const uintptr_t addr = reinterpret_cast<uintptr_t>(s);
    const __m256i* block;
    unsigned dots, nuls, pairs;
    if (__builtin_expect((addr & 4095) <= 4096 - 32, 1)) {
      // Past the NUL but within the page, as in ScanSse2.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s));
#pragma GCC diagnostic pop
      dots = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, dot)));
      nuls = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nul)));
      pairs = dots & (dots << 1);
      if (__builtin_expect(nuls != 0, 1)) return pair_before_nul(pairs, nuls);
      if (pairs != 0) return true;
      block = reinterpret_cast<const __m256i*>((addr + 32) & ~uintptr_t(31));
    } else {
      block = reinterpret_cast<const __m256i*>(addr & ~uintptr_t(31));
      const __m256i v = _mm256_load_si256(block++);
      const unsigned valid = ~0u << (addr & 31);
      dots = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, dot))) & valid;
      nuls = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nul))) & valid;
      pairs = dots & (dots << 1);
      if (pairs | nuls) return pair_before_nul(pairs, nuls);
    }
    unsigned carry = reinterpret_cast<const char*>(block)[-1] == '.';
    do {
      const __m256i v = _mm256_load_si256(block++);
      dots = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, dot)));
      nuls = unsigned(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nul)));
      pairs = dots & ((dots << 1) | carry);
      carry = dots >> 31;
    } while ((pairs | nuls) == 0);
    return pair_before_nul(pairs, nuls);
  }
};

// The scan of the paths off the hot hooks, and of the hooks where there is one variant only.
struct BaselineScan {
  __attribute__((FPSHIM_GENERAL_REGS)) static bool whole_blocks() { return !under_valgrind(); }
  static unsigned has_dotdot(const char* s) {
    return __builtin_expect(under_valgrind(), 0) ? ScanPortable::has_dotdot(s) : ScanSse2::has_dotdot(s);
  }
};

#else

using BaselineScan = ScanPortable;

#endif

inline bool has_dotdot(const char* s) { return BaselineScan::has_dotdot(s); }

}  // namespace fpshim
