// Boost.JSON compiled into this library (header-only mode needs its
// implementation in exactly one translation unit).
#include <boost/json/src.hpp>
