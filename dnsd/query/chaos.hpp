#pragma once
/// Internal to the query module: the CH class (SPEC 4): `health.server`
/// (one string per site and address), the explanation of a service name's
/// answer, and `id.server`, `hostname.bind`, `version.server`,
/// `version.bind` as other servers answer them. health.server and
/// explanations only to `explain_allow` (or a trusted caller).
///
/// noexcept, no allocation; any worker thread.

#include <cstddef>
#include <span>

#include "dnsd/query/answer.hpp"
#include "dnsd/wire/parser.hpp"

namespace dnsd::query {

/// The reply to a CH query `q` (already parsed and gated), at most `limit`
/// bytes.
std::size_t chaos(std::span<const std::uint8_t> request, std::span<std::uint8_t> response,
                  const wire::Query& q, const View& view, const Client& client, std::size_t limit) noexcept;

}  // namespace dnsd::query
