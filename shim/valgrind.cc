// Asking Valgrind whether its Memcheck runs us (valgrind.h). The headers are Valgrind's own, sets of
// inline client-request sequences with no library behind them; without them, the answer is no.
// Memcheck alone answers VALGRIND_MAKE_MEM_DEFINED (with -1); the other tools leave the default, 0.
// Marking defined a byte that is defined changes nothing.
#include "valgrind.h"

#if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
static char g_defined_byte = 1;
#define FPSHIM_ASK_VALGRIND() (RUNNING_ON_VALGRIND != 0 && long(VALGRIND_MAKE_MEM_DEFINED(&g_defined_byte, 1)) == -1)
#else
#define FPSHIM_ASK_VALGRIND() false
#endif

namespace fpshim {

constinit std::atomic<signed char> g_under_valgrind{-1};

bool ask_valgrind() { return FPSHIM_ASK_VALGRIND(); }

}  // namespace fpshim
