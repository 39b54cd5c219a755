// Step 2 of draft.hpp: what the configuration names outside itself.

#include <pwd.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "dnsd/config/draft.hpp"

namespace dnsd::config {

std::string resolve_path(std::string_view config_path, std::string_view path) {
    std::filesystem::path p(path);
    if (p.is_relative()) p = std::filesystem::path(config_path).parent_path() / p;
    return p.lexically_normal().string();
}

Token read_token(const std::string& file) {
    // Only a regular file: /dev/zero would be read until memory runs out,
    // a FIFO would block the reader.
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        return {"", "cannot read " + file + ": not a regular file"};
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) return {"", "cannot read " + file};
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() < 16) return {"", "the token in " + file + " is shorter than 16 characters"};
    return {line, ""};
}

namespace {

// A token_file that was given: made absolute, and its token read.
void token_file(const std::optional<Spot>& given, std::string_view key, const std::string& config_path,
                std::string& file, std::string& token, Report& report) {
    if (!given) return;
    file = resolve_path(config_path, file);
    auto read = read_token(file);
    if (read.error.empty())
        token = std::move(read.token);
    else
        report.error(*given, key, read.error);
}

/// A [tsig.NAME] key's secret file: a regular file no one else may read,
/// holding one secret (parse_tsig_secret) of the key's algorithm.
void tsig_secret(TsigDraft& d, const std::string& config_path, Report& report) {
    if (!d.secret_file) return;
    TsigKey& k = d.key;
    const std::string key = "tsig." + k.name + ".secret_file";
    k.secret_file = resolve_path(config_path, k.secret_file);
    struct stat st {};
    if (::stat(k.secret_file.c_str(), &st) != 0) {
        report.error(*d.secret_file, key, "cannot read " + k.secret_file);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        report.error(*d.secret_file, key, "cannot read " + k.secret_file + ": not a regular file");
        return;
    }
    if (st.st_mode & S_IROTH) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        report.error(*d.secret_file, key,
                     k.secret_file + " is readable by everyone (mode " + mode +
                         "): a TSIG secret must not be; chmod o-rwx " + k.secret_file);
        return;
    }
    std::ifstream in(k.secret_file, std::ios::binary);
    std::string text;
    if (in) text.assign(std::istreambuf_iterator<char>(in), {});
    if (!in && !in.eof()) {
        report.error(*d.secret_file, key, "cannot read " + k.secret_file);
        return;
    }
    if (text.size() > 64 * 1024) {
        report.error(*d.secret_file, key, k.secret_file + " is too large to be a TSIG secret");
        return;
    }
    auto secret = parse_tsig_secret(text);
    if (!secret.error.empty()) {
        report.error(*d.secret_file, key, k.secret_file + ": " + secret.error);
        return;
    }
    if (!secret.algorithm.empty() && secret.algorithm != to_string(k.algorithm)) {
        report.error(*d.secret_file, key,
                     k.secret_file + " is a key for " + secret.algorithm + ", but tsig." + k.name +
                         ".algorithm is " + to_string(k.algorithm));
        return;
    }
    k.secret = std::move(secret.secret);
}

}  // namespace

void resolve(Draft& d, Report& report) {
    Config& c = d.config;
    const std::string& path = report.path();
    if (!c.server.state_file.empty()) c.server.state_file = resolve_path(path, c.server.state_file);
    for (auto& database : c.geo.databases) database = resolve_path(path, database);
    for (auto& zone : d.zones) {
        if (!zone.zone.file.empty()) zone.zone.file = resolve_path(path, zone.zone.file);
        if (!zone.zone.dnssec.empty()) zone.zone.dnssec = resolve_path(path, zone.zone.dnssec);
    }
    token_file(d.control_token_file, "control.token_file", path, c.control.token_file, c.control.token,
               report);
    token_file(d.cluster_token_file, "cluster.token_file", path, c.cluster.token_file, c.cluster.token,
               report);
    for (auto& key : d.tsig) tsig_secret(key, path, report);
    // Read once here so that `check` says what is wrong with them; the
    // server loads them again when it sets up the listener.
    auto readable = [&](const std::optional<Spot>& given, std::string_view key, std::string& file) {
        if (!given) return;
        file = resolve_path(path, file);
        std::ifstream in(file);
        if (!in) report.error(*given, key, "cannot read " + file);
    };
    if (d.control_tls) {
        readable(d.control_tls, "control.tls_cert", c.control.tls_cert);
        readable(d.control_tls, "control.tls_key", c.control.tls_key);
    }
    readable(d.cluster_ca_file, "cluster.ca_file", c.cluster.ca_file);
    if (!c.control.unix_path.empty()) c.control.unix_path = resolve_path(path, c.control.unix_path);
    // Looked up here so that `dnsd check` says so. A warning, not an
    // error: the machine that checks (a CI box) need not be the one that
    // runs; `dnsd run` refuses to start without the user (main.cpp).
    if (d.user) {
        c.server.user_line = d.user->line;
        if (c.server.user.empty()) {
            report.error(*d.user, "server.user", "expected a user name");
        } else if (!::getpwnam(c.server.user.c_str())) {
            c.server.user_known = false;
            report.warning(*d.user, "server.user",
                           "no user named '" + c.server.user +
                               "' on this machine (dnsd run will not start on a machine without it)");
        }
    }
}

}  // namespace dnsd::config
