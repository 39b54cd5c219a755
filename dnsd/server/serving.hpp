#pragma once
/// What the workers answer from: the zones and services (a query::View)
/// and the health of that view's addresses, published together as one
/// snapshot. A reload replaces both at once, so that no worker ever pairs
/// a new catalog's health with the old zones or the other way round.
///
/// Written by the state thread only (a new Serving on every reload and
/// health change); read by the workers through SnapshotSlot::Local.

#include <memory>

#include "dnsd/core/snapshot.hpp"
#include "dnsd/query/view.hpp"
#include "health/snapshot.hpp"

namespace dnsd::server {

struct Serving {
    std::shared_ptr<const query::View> view;
    std::shared_ptr<const health::Snapshot> health;  ///< for view->catalog()
};

using ServingSlot = SnapshotSlot<Serving>;

}  // namespace dnsd::server
