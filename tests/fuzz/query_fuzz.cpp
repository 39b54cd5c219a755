// Fuzzes the whole query path: parser, lookup, encoder, over UDP and TCP
// limits, against the golden-test zone. Any crash, sanitizer report, an
// answer longer than the transport allows, or an answer whose ID differs
// from the query's is a finding.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dnsd/core/name.hpp"
#include "dnsd/query/answer.hpp"
#include "zones/reader.hpp"

namespace {
const dnsd::query::View& view() {
    static auto v = [] {
        dnsd::Diagnostics diags;
        const auto origin = *dnsd::name_from_text("example.test.");
        auto records =
            dnsd::zones::read_zone_file(DNSD_SOURCE_DIR "/tests/query/data/example.test.zone", origin, diags);
        auto zone = dnsd::zones::Zone::build(origin, std::move(records), "example.test.zone", diags);
        if (!zone) std::abort();
        dnsd::config::Server server;
        server.identity = "fuzz";
        server.transfer_allow.prefixes.push_back(*dnsd::Prefix::parse("127.0.0.1"));
        return dnsd::query::View::make({zone}, server);
    }();
    return *v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::vector<std::uint8_t> out(65535);
    const auto client = *dnsd::Address::parse("127.0.0.1");
    for (auto t : {dnsd::query::Transport::udp, dnsd::query::Transport::tcp}) {
        const auto r = dnsd::query::answer({data, size}, out, view(), {client, t});
        if (r.size == 0) continue;
        if (t == dnsd::query::Transport::udp && r.size > 1232) std::abort();
        if (size < 2 || r.size < 12 || out[0] != data[0] || out[1] != data[1]) std::abort();
        if (r.transfer) {
            dnsd::wire::Query q;
            if (dnsd::wire::parse_query({data, size}, q) != dnsd::wire::Verdict::ok) std::abort();
            dnsd::query::AxfrStream stream({data, size}, q, *r.transfer);
            for (int i = 0; i < 4 && stream.next(out) != 0; ++i) {
            }
        }
    }
    return 0;
}
