#pragma once
/// A place on the Earth: latitude and longitude in degrees, and the same
/// point as a unit vector, worked out once when the point is made. Of
/// several points, the nearest (great-circle) to another is the one with
/// the largest dot product of their unit vectors: exact order, no
/// trigonometry per comparison. Used by the sites of steering and the
/// client locations of geo; steering needs only the unit vectors.

namespace dnsd {

struct UnitVector {
    double x = 0, y = 0, z = 0;

    double dot(const UnitVector& o) const noexcept { return x * o.x + y * o.y + z * o.z; }
    /// The great-circle distance in kilometres (mean Earth radius).
    double distance_km(const UnitVector& o) const noexcept;
};

struct GeoPoint {
    double lat = 0, lon = 0;  ///< degrees
    UnitVector unit;

    static GeoPoint from_degrees(double lat, double lon) noexcept;
};

/// A place with its share of something spread over many places (the
/// reference distribution of client locations: geo::Locator::reference).
struct WeightedPoint {
    GeoPoint at;
    double weight = 0;
};

}  // namespace dnsd
