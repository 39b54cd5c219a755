// Boost.JSON for the test (reads MaxMind's source data).
#include <boost/json/src.hpp>
