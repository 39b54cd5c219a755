#pragma once
/// The state file (SPEC 3, `server.state_file`): what survives a restart.
/// The board's overrides and last address states, and what secondaries may
/// hold of each zone (dnsd/load/serial.hpp: the highest serial served and
/// a digest of the data first served under it). One JSON
/// document, written atomically (a temporary file beside it, then rename),
/// so that a crash never leaves half of one.
///
/// Plain functions; the state thread writes it, `main()` and the state
/// thread read it at start.

#include <string>

#include "dnsd/core/diagnostic.hpp"
#include "dnsd/query/view.hpp"
#include "dnsd/steer/staying.hpp"
#include "health/board.hpp"

namespace dnsd::server {

struct StateFile {
    health::Persisted health;
    query::ServedSerials serials;
    steer::Staying::Saved staying;  ///< hold-downs and damping penalties (SPEC 9)
};

/// Reads `path`. A missing file is an empty StateFile; a broken one, or
/// parts of it that make no sense, are warnings in `diags`: a stale state
/// file must not stop the server.
StateFile read_state_file(const std::string& path, Diagnostics& diags);

/// The JSON text of `state` (version 1).
std::string state_file_text(const StateFile& state);

/// Writes `state` to `path` atomically; false with `error` set when it
/// could not.
bool write_state_file(const std::string& path, const StateFile& state, std::string& error);

}  // namespace dnsd::server
