#pragma once
/// The keys of one signed zone, and which of them sign what (SPEC 11).
///
/// Built at load time from read_keys(); immutable after, shared by every
/// worker. select() is noexcept and allocates nothing: it runs on the query
/// path, so that Activate and Inactive times take effect when they pass,
/// without a reload. Which keys are published (DNSKEY, CDS, CDNSKEY in the
/// zone) is decided at load time: a reload publishes a new key.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dnsd/dnssec/key.hpp"

namespace dnsd::dnssec {

class KeySet {
public:
    /// More keys than a zone in a rollover needs (two algorithms, each
    /// with an old and a new KSK and ZSK).
    static constexpr std::size_t kMaxKeys = 8;

    explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

    std::span<const Key> keys() const noexcept { return keys_; }

    /// The keys that sign an RRset of `type` at time `now` (seconds since
    /// the epoch): for DNSKEY the active keys with the SEP flag (KSKs), for
    /// every other type the active keys without it (ZSKs); when a role has
    /// no active key, the other role's keys sign for it (one combined key
    /// signs everything). A revoked key signs the DNSKEY RRset only.
    /// Writes up to kMaxKeys pointers into `out`; returns how many.
    std::size_t select(std::uint16_t type, std::int64_t now, const Key* (&out)[kMaxKeys]) const noexcept;

    /// Keys published at `now`: their DNSKEY is in the zone.
    std::vector<const Key*> published(std::int64_t now) const;
    /// Keys whose CDS and CDNSKEY are in the zone at `now` (RFC 7344): the
    /// published KSKs (or, with none, the published keys) that are active,
    /// after SyncPublish and before SyncDelete when those are set.
    std::vector<const Key*> sync_published(std::int64_t now) const;

private:
    std::vector<Key> keys_;
};

}  // namespace dnsd::dnssec
