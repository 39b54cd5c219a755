#include "dnsd/core/geo_point.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dnsd {

namespace {
constexpr double kEarthRadiusKm = 6371.0;
}

GeoPoint GeoPoint::from_degrees(double lat, double lon) noexcept {
    const double la = lat * std::numbers::pi / 180.0;
    const double lo = lon * std::numbers::pi / 180.0;
    return {lat, lon, {std::cos(la) * std::cos(lo), std::cos(la) * std::sin(lo), std::sin(la)}};
}

double UnitVector::distance_km(const UnitVector& o) const noexcept {
    // Rounding can put the dot product of near points a hair past 1.
    return std::acos(std::clamp(dot(o), -1.0, 1.0)) * kEarthRadiusKm;
}

}  // namespace dnsd
