// [[alert]] entries.

#include "dnsd/config/sections.hpp"

namespace dnsd::config {

void read_alert(TableReader& r, Draft& d) {
    Alert a;
    a.line = r.line();
    bool ok = r.require("type", kAlertKinds.list(" or "));
    ok &= good(r.enum_value("type", kAlertKinds, a.kind));
    // Without a type the other keys mean nothing: they are not checked,
    // only told apart from unknown keys.
    if (!ok) r.quiet();

    const bool webhook = a.kind == Alert::Kind::webhook;
    if (r.has("url") && !webhook) {
        r.error(*r.get("url"), "url", "only for webhook alerts");
        ok = false;
    } else if (webhook) {
        ok &= r.require("url", "where events are POSTed, e.g. \"http://127.0.0.1:9000/dnsd-events\"");
        ok &= good(r.string(
            "url", a.url,
            [](std::string_view v) { return parse_url(v) ? std::optional<std::string>(v) : std::nullopt; },
            is_not("an http:// or https:// URL (\"http://host[:port][/path]\")")));
    }
    if (r.has("command") && webhook) {
        r.error(*r.get("command"), "command", "only for exec alerts");
        ok = false;
    } else if (!webhook) {
        ok &= r.require("command", "the command an exec alert runs");
        ok &= good(r.command("command", false, a.command));
    }
    ok &= good(r.duration("timeout", Duration{10}, a.timeout));
    ok &= good(r.integer("retries", 0, 10, a.retries));
    if (ok) d.config.alerts.push_back(std::move(a));
}

}  // namespace dnsd::config
