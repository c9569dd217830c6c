// Included ahead of every source of the musl shim (-include, fpshim_shim_variant): what the C++
// headers of the host's libstdc++, configured for glibc, expect of the C library and musl's headers
// lack. Declarations only: the shim takes <atomic> from those headers and runs nothing of
// libstdc++ (nor is anything declared here called).
#pragma once

#define __GLIBC_PREREQ(major, minor) 0

#include <locale.h>
#include <pthread.h>
#include <time.h>

typedef locale_t __locale_t;
extern "C" int pthread_cond_clockwait(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*);
