// Boost.JSON compiled into this library (header-only mode needs its
// implementation in exactly one translation unit). dnsd_health carries an
// identical copy: a program linking both takes whichever object the linker
// meets first, and the other is never pulled in.
#include <boost/json/src.hpp>
