#include "build-info.h"
const char *greeting(void) { return "hello"; }
