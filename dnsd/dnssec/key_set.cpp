#include "dnsd/dnssec/key_set.hpp"

#include "dnsd/wire/types.hpp"

namespace dnsd::dnssec {

std::size_t KeySet::select(std::uint16_t type, std::int64_t now, const Key* (&out)[kMaxKeys]) const noexcept {
    const bool dnskey = type == wire::type::DNSKEY;
    // Twice at most: the role's own keys, else the other role's.
    for (const bool sep : {dnskey, !dnskey}) {
        std::size_t n = 0;
        for (const auto& k : keys_) {
            if (n == kMaxKeys) break;
            if (k.ksk() != sep || !k.timing().active(now)) continue;
            if (k.revoked() && !dnskey) continue;
            out[n++] = &k;
        }
        if (n > 0) return n;
    }
    return 0;
}

std::vector<const Key*> KeySet::published(std::int64_t now) const {
    std::vector<const Key*> out;
    for (const auto& k : keys_)
        if (k.timing().published(now)) out.push_back(&k);
    return out;
}

std::vector<const Key*> KeySet::sync_published(std::int64_t now) const {
    std::vector<const Key*> out;
    for (const bool sep : {true, false}) {
        for (const auto& k : keys_) {
            const auto& t = k.timing();
            if (k.ksk() != sep || !t.active(now) || k.revoked()) continue;
            if ((t.sync_publish && now < *t.sync_publish) || (t.sync_delete && now >= *t.sync_delete))
                continue;
            out.push_back(&k);
        }
        if (!out.empty()) break;
    }
    return out;
}

}  // namespace dnsd::dnssec
