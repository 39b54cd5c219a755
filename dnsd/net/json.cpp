// Boost.JSON compiled once for the whole program (its header-only mode
// needs the implementation in exactly one translation unit). Every module
// that reads or writes JSON links dnsd_net.
#include <boost/json/src.hpp>
