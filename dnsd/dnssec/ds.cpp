#include "dnsd/dnssec/ds.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "dnsd/core/name.hpp"

namespace dnsd::dnssec {

namespace {
constexpr std::uint8_t kSha256 = 2;
}

std::vector<std::uint8_t> ds_rdata(const Key& key) {
    std::vector<std::uint8_t> data(key.zone().begin(), key.zone().end());
    const auto dnskey = key.dnskey_rdata();
    data.insert(data.end(), dnskey.begin(), dnskey.end());
    std::vector<std::uint8_t> out = {static_cast<std::uint8_t>(key.tag() >> 8),
                                     static_cast<std::uint8_t>(key.tag()),
                                     static_cast<std::uint8_t>(key.algorithm()), kSha256};
    out.resize(4 + 32);
    unsigned size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data() + 4, &size, EVP_sha256(), nullptr) != 1 || size != 32)
        throw std::runtime_error("OpenSSL could not compute SHA-256");
    return out;
}

std::string ds_text(const Key& key) {
    const auto rdata = ds_rdata(key);
    std::string out = name_to_text(key.zone()) + " IN DS " + std::to_string(key.tag()) + ' ' +
                      std::to_string(static_cast<unsigned>(key.algorithm())) + ' ' + std::to_string(kSha256) +
                      ' ';
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (std::size_t i = 4; i < rdata.size(); ++i) {
        out += kHex[rdata[i] >> 4];
        out += kHex[rdata[i] & 15];
    }
    return out;
}

}  // namespace dnsd::dnssec
