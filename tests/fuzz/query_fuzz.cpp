// Fuzzes the whole query path: parser, lookup, encoder, over UDP and TCP
// limits, against the golden-test zone. Any crash, sanitizer report, an
// answer longer than the transport allows, or an answer whose ID differs
// from the query's is a finding.

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/core/name.hpp"
#include "dnsd/load/runtime.hpp"
#include "dnsd/query/answer.hpp"
#include "dnsd/query/transfer.hpp"

namespace {
const dnsd::query::View& view() {
    // The golden-test zone plus services of every kind and networks
    // overrides, so that steering and ECS scopes are fuzzed too.
    static auto v = [] {
        dnsd::Diagnostics diags;
        const auto cfg = dnsd::config::read_config_text(
            "[server]\nidentity = \"fuzz\"\ntransfer_allow = [\"127.0.0.1\"]\n"
            "[[zone]]\norigin = \"example.test.\"\nfile = \"" DNSD_SOURCE_DIR
            "/tests/query/data/example.test.zone\"\n"
            "[[geo.networks]]\nprefix = \"192.0.2.0/24\"\nlocation = { lat = 1.3, lon = 103.8 }\n"
            "[[geo.networks]]\nprefix = \"2001:db8::/48\"\nlocation = { lat = 52.4, lon = 4.9 }\n"
            "[[geo.networks]]\nprefix = \"192.0.2.128/25\"\nlocation = { lat = 40.7, lon = -74.0 }\n"
            "[sites.a]\nlocation = { lat = 52.4, lon = 4.9 }\naddresses = [\"198.51.100.1\", "
            "\"2001:db8:1::1\"]\n"
            "[sites.b]\nlocation = { lat = 1.3, lon = 103.8 }\naddresses = [\"198.51.100.2\"]\nweight = 0\n"
            "[sites.c]\nlocation = { lat = 40.7, lon = -74.0 }\ncname = \"edge.cdn.example.net.\"\n"
            "[[service]]\nname = \"near.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"nearest\"\n"
            "[[service]]\nname = \"all.example.test.\"\nsites = [\"a\", \"b\"]\npolicy = \"all\"\n"
            "max_answers = 1\n"
            "[[service]]\nname = \"cdn.example.test.\"\nsites = [\"b\", \"c\"]\npolicy = \"weighted\"\n",
            "/fuzz.toml", diags);
        auto loaded = diags.has_errors() ? nullptr : dnsd::load::runtime(cfg, diags);
        if (!loaded) std::abort();
        return loaded;
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
            dnsd::query::TransferStream stream({data, size}, q, view(), r);
            for (int i = 0; i < 4 && stream.next(out) != 0; ++i) {
            }
        }
    }
    return 0;
}
