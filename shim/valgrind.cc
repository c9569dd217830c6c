// Asking Valgrind whether it runs us (valgrind.h). The header is Valgrind's own, a set of inline
// client-request sequences with no library behind it; without it, the answer is no.
#include "valgrind.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FPSHIM_ASK_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define FPSHIM_ASK_VALGRIND() false
#endif

namespace fpshim {

constinit std::atomic<signed char> g_under_valgrind{-1};

bool ask_valgrind() { return FPSHIM_ASK_VALGRIND(); }

}  // namespace fpshim
