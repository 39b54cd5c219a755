#include "dnsd/query/steering.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace dnsd::query {

Whereabouts locate_client(const Subnet& subnet, const View& view, const Client& client) noexcept {
    Whereabouts w;
    w.address = client.address;
    w.by_ecs = subnet.present && subnet.source > 0;  // source prefix 0: as without ECS
    if (w.by_ecs) {
        w.address.family = subnet.family;
        std::memcpy(w.address.bytes.data(), subnet.address, 16);
    }
    w.source_prefix = w.by_ecs ? subnet.source : static_cast<std::uint8_t>(w.address.bits());
    if (!view.locator()) return w;
    const geo::Locator& locator = *view.locator();
    if (client.geo_cache) {
        client.geo_cache->locate(locator, w.address, w.source_prefix, w.by_ecs, w.located, w.scope);
    } else {
        w.located = locator.locate(w.address);
        if (w.by_ecs) w.scope = locator.scope(w.address, w.located, w.source_prefix);
    }
    if (w.located.source != geo::Located::Source::unknown) {
        w.client.located = true;
        w.client.location = w.located.location.unit;
    }
    return w;
}

ClientPrefix client_prefix(const Subnet& subnet, const Client& client) noexcept {
    ClientPrefix p;
    p.by_ecs = subnet.present && subnet.source > 0;  // source prefix 0: as without ECS
    Address a = client.address;
    if (p.by_ecs) {
        a.family = subnet.family;
        std::memcpy(a.bytes.data(), subnet.address, 16);
    }
    const unsigned most = a.family == Family::v4 ? 24 : 56;
    p.prefix = Prefix::of(a, p.by_ecs && subnet.source < most ? subnet.source : most);
    return p;
}

void address_text(const Address& a, char* out, std::size_t size) noexcept {
    inet_ntop(a.family == Family::v4 ? AF_INET : AF_INET6, a.view().data(), out,
              static_cast<socklen_t>(size));
}

}  // namespace dnsd::query
