#pragma once
/// The configuration as plain structs, read from one TOML file.
///
/// read_config() never throws and never exits: every problem is appended to
/// the Diagnostics as `FILE:LINE: key: message`, and reading continues so
/// that `dnsd check` reports all of them. Unknown keys are errors.
/// toml++ stays private to config.cpp. Thread-safe: no shared state.

#include <cstdint>
#include <string>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/core/diagnostic.hpp"

namespace dnsd::config {

struct Server {
    std::vector<Endpoint> listen;      ///< UDP and TCP on each; default 127.0.0.1:53
    unsigned threads = 0;              ///< 0: one per core
    std::string identity;              ///< id.server, hostname.bind and NSID; empty: none
    std::uint16_t udp_payload = 1232;  ///< largest UDP answer we send (512..4096)
    Acl transfer_allow;                ///< who may AXFR
};

struct Zone {
    std::string origin;  ///< wire format, absolute
    std::string file;    ///< path, resolved against the config file's directory
    int line = 0;        ///< line of the [[zone]] entry, for diagnostics
};

struct Config {
    std::string path;  ///< the config file as given
    Server server;
    std::vector<Zone> zones;
};

/// Reads and validates `path`. The returned Config is only meaningful when
/// `diags.has_errors()` is false.
Config read_config(const std::string& path, Diagnostics& diags);

/// As read_config, from text; `path` is used in diagnostics and to resolve
/// relative zone file paths.
Config read_config_text(std::string_view text, const std::string& path, Diagnostics& diags);

}  // namespace dnsd::config
