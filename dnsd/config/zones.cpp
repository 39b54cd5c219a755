// [[zone]] entries.

#include "dnsd/config/sections.hpp"

namespace dnsd::config {

void read_zone(TableReader& r, Draft& d) {
    ZoneDraft draft;
    Zone& z = draft.zone;
    z.line = r.line();
    draft.ok &= r.require("origin", "the zone's name, e.g. \"gslb.example.com.\"");
    draft.ok &= r.require("file", "the zone file's path");
    const Got origin = r.domain_name("origin", false, z.origin);
    if (origin == Got::value) draft.origin = r.spot_at("origin");
    draft.ok &= good(origin);
    draft.ok &= good(r.path("file", z.file));
    draft.ok &= good(r.path("dnssec", z.dnssec));
    d.zones.push_back(std::move(draft));
}

}  // namespace dnsd::config
