// Fuzzes the configuration reader: the input is TOML text as `dnsd check`
// would read it from a file. Diagnostics are expected; a crash, a sanitizer
// report, a leak or a hang is a finding. A configuration the reader accepts
// is compiled into the steering catalog too, as load::runtime does, so that
// what validation lets through is exercised as well.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dnsd/config/config.hpp"
#include "dnsd/steer/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A directory that does not exist: relative token_file paths resolve
    // into it and fail to open, whatever the fuzzer writes.
    static const std::string path = "/nonexistent-dnsd-fuzz/dnsd.toml";
    dnsd::Diagnostics diags;
    const auto cfg = dnsd::config::read_config_text({reinterpret_cast<const char*>(data), size}, path, diags);
    if (cfg.path != path) std::abort();
    if (!diags.has_errors()) {
        // What the query path relies on once a configuration is accepted.
        for (const auto& svc : cfg.services) {
            for (auto i : svc.sites)
                if (i >= cfg.sites.size()) std::abort();
            if (svc.fallback == dnsd::config::Service::Fallback::site &&
                svc.fallback_site >= cfg.sites.size())
                std::abort();
        }
        const auto catalog = dnsd::steer::Catalog::build(cfg);
        if (catalog.services.size() != cfg.services.size()) std::abort();
        if (catalog.address_site.size() != catalog.addresses.size()) std::abort();
    }
    return 0;
}
