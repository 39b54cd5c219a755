#pragma once
// Test helper: a View over the test zone, and answers decoded with ldns,
// an independent decoder, so that the tests do not trust our own parser.

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnsd/query/answer.hpp"
#include "dnsd/query/view.hpp"
#include "tests/wire/packet.hpp"
#include "zones/ldns.hpp"
#include "zones/reader.hpp"

#ifndef DNSD_SOURCE_DIR
#define DNSD_SOURCE_DIR "."
#endif

namespace dnsd::test {

inline std::shared_ptr<const query::View> load_view(const std::string& file, const std::string& origin,
                                                    config::Server server = {}) {
    Diagnostics diags;
    const auto o = *name_from_text(origin);
    auto records = zones::read_zone_file(std::string(DNSD_SOURCE_DIR) + "/" + file, o, diags);
    auto zone = zones::Zone::build(o, std::move(records), file, diags);
    if (!zone || diags.has_errors()) {
        std::string all;
        for (const auto& d : diags) all += d.str() + "\n";
        throw std::runtime_error("test zone failed to load:\n" + all);
    }
    query::View::Parts parts;
    parts.zones = {zone};
    return query::View::make(std::move(parts), server);
}

struct Reply {
    std::vector<std::uint8_t> bytes;
    ldns_pkt* pkt = nullptr;
    const zones::Zone* transfer = nullptr;
    Reply() = default;
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;
    Reply(Reply&& o) noexcept : bytes(std::move(o.bytes)), pkt(o.pkt), transfer(o.transfer) {
        o.pkt = nullptr;
    }
    ~Reply() {
        if (pkt) ldns_pkt_free(pkt);
    }
    bool dropped() const { return bytes.empty() && !transfer; }
    int rcode() const { return ldns_pkt_get_rcode(pkt); }
    bool aa() const { return ldns_pkt_aa(pkt); }
    bool tc() const { return ldns_pkt_tc(pkt); }
    bool rd() const { return ldns_pkt_rd(pkt); }
    bool ra() const { return ldns_pkt_ra(pkt); }
    /// Records of a section as presentation lines, owner names as sent.
    std::multiset<std::string> section(ldns_pkt_section s) const {
        std::multiset<std::string> out;
        ldns_rr_list* list = nullptr;
        switch (s) {
            case LDNS_SECTION_ANSWER:
                list = ldns_pkt_answer(pkt);
                break;
            case LDNS_SECTION_AUTHORITY:
                list = ldns_pkt_authority(pkt);
                break;
            case LDNS_SECTION_ADDITIONAL:
                list = ldns_pkt_additional(pkt);
                break;
            default:
                break;
        }
        for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
            char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
            std::string line(text);
            free(text);
            while (!line.empty() && line.back() == '\n') line.pop_back();
            for (auto& c : line)
                if (c == '\t') c = ' ';
            out.insert(line);
        }
        return out;
    }
    std::multiset<std::string> answer() const { return section(LDNS_SECTION_ANSWER); }
    std::multiset<std::string> authority() const { return section(LDNS_SECTION_AUTHORITY); }
    std::multiset<std::string> additional() const { return section(LDNS_SECTION_ADDITIONAL); }
};

/// The scope of the ECS option in a reply's OPT; -1 when there is none.
inline int scope_of(const Reply& r) {
    if (!r.pkt || !ldns_pkt_edns(r.pkt)) return -1;
    const ldns_rdf* d = ldns_pkt_edns_data(r.pkt);
    if (!d) return -1;
    const std::uint8_t* p = ldns_rdf_data(d);
    const std::size_t n = ldns_rdf_size(d);
    for (std::size_t i = 0; i + 4 <= n;) {
        const unsigned code = (p[i] << 8) | p[i + 1], len = (p[i + 2] << 8) | p[i + 3];
        if (code == 8 && len >= 4 && i + 4 + len <= n) return p[i + 4 + 3];
        i += 4 + len;
    }
    return -1;
}

inline Reply ask(const query::View& view, const Packet& p, const query::Client& client) {
    Reply r;
    std::vector<std::uint8_t> buf(65535);
    const auto res = query::answer({p.bytes.data(), p.bytes.size()}, buf, view, client);
    r.transfer = res.transfer;
    buf.resize(res.size);
    r.bytes = std::move(buf);
    if (!r.bytes.empty() && ldns_wire2pkt(&r.pkt, r.bytes.data(), r.bytes.size()) != LDNS_STATUS_OK)
        throw std::runtime_error("ldns cannot decode our answer");
    return r;
}

inline Reply ask(const query::View& view, const Packet& p, query::Transport t = query::Transport::udp,
                 const char* client = "127.0.0.1") {
    return ask(view, p, query::Client{*Address::parse(client), t});
}

}  // namespace dnsd::test
