#pragma once
/// ldns for C++: ldns/common.h defines `bool`, `false` and `true` as macros
/// unless stdbool.h came first, which breaks later C++ headers (<optional>).
/// Include this instead of <ldns/ldns.h>.

// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on
