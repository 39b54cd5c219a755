#pragma once
/// A configuration between the steps of reading it. Private to dnsd/config.
///
/// 1. parse (config.cpp and one file per section): TOML into a Draft. Each
///    value is checked on its own; names of other entries are kept as
///    written, with the spot where a problem with them is reported.
/// 2. resolve (resolve.cpp): what the file names outside itself: paths made
///    absolute against the config file's directory, token files read, the
///    user looked up. The only step that touches the machine.
/// 3. validate (validate.cpp): what needs other entries or the whole file:
///    references between entries, duplicates, the checks across sections.
///    It keeps the entries that passed and returns the Config.

#include <optional>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/config/report.hpp"

namespace dnsd::config {

/// A name of another entry as written, and where to report it.
struct Ref {
    std::string name;
    Spot spot;
};

/// A [probes.NAME] table; no probe when it was refused.
struct NamedProbe {
    std::string name;
    std::optional<Probe> probe;
};

struct SiteDraft {
    Site site;
    std::optional<Ref> probe;  ///< `probe = "NAME"`: a [probes.NAME] to find
};

struct ServiceDraft {
    Service service;           ///< its sites and fallback site are filled by validate
    bool ok = true;            ///< read cleanly so far
    std::optional<Spot> name;  ///< a valid name, checked against the other services
    std::vector<Ref> sites;
    std::optional<Spot> policy;   ///< `policy = "nearest"`: every site needs a location
    std::optional<Ref> fallback;  ///< a fallback that is no keyword: one of the service's sites
};

struct ZoneDraft {
    Zone zone;
    bool ok = true;
    std::optional<Spot> origin;  ///< a valid origin, checked against the other zones
};

struct NetworkDraft {
    GeoNetwork network;
    bool ok = true;
    std::optional<Ref> prefix;  ///< a valid prefix as written, checked against the other networks
};

/// A [tsig.NAME] table; its secret is read by resolve.
struct TsigDraft {
    TsigKey key;
    std::optional<Spot> secret_file;  ///< where secret_file was given
};

struct Draft {
    /// Everything not in the lists below; paths as written until resolved.
    Config config;
    std::vector<NamedProbe> probes;  ///< in toml++'s order (sorted by name)
    std::vector<SiteDraft> sites;    ///< in the order of the file
    std::vector<ServiceDraft> services;
    std::vector<ZoneDraft> zones;  ///< paths as written until resolved
    std::vector<NetworkDraft> networks;
    bool zone_entries = false;  ///< the file has a `zone` key, [[zone]] or not
    std::optional<Spot> user;   ///< server.user: looked up by resolve
    std::optional<Spot> control_token_file;
    std::optional<Spot> cluster_token_file;
    std::optional<Spot> control_tls;  ///< tls_cert and tls_key, both given
    std::optional<Spot> cluster_ca_file;
    std::vector<TsigDraft> tsig;       ///< in toml++'s order (sorted by name)
    std::optional<Spot> transfer_key;  ///< server.transfer_key: a [tsig.NAME] to find
    std::optional<Spot> quorum;        ///< a valid cluster.quorum, checked against the peers
};

/// Step 2: resolves draft.config's paths (and the zones'), reads the token
/// files and looks up the user, reporting what fails.
void resolve(Draft& draft, Report& report);

/// Step 3: checks what refers to other entries and what needs the whole
/// file; returns the Config with the entries that passed.
Config validate(Draft draft, Report& report);

/// `path` made absolute against the directory of `config_path` (the
/// config file as given) when relative, and lexically normal. Relative
/// paths are relative to the config file so that a config and its files
/// move together.
std::string resolve_path(std::string_view config_path, std::string_view path);

/// The first line of a file holding a bearer token, without trailing
/// spaces and CR; or why it cannot be used (the message names the file).
struct Token {
    std::string token;
    std::string error;  ///< empty when token is good
};
Token read_token(const std::string& file);

}  // namespace dnsd::config
