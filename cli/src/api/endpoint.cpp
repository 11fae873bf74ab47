#include "api/endpoint.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "errors.hpp"

namespace chatadm {

namespace {

[[noreturn]] void bad_host(std::string_view host, const std::string& why) {
    throw CliError(ExitStatus::usage, "invalid host '" + std::string(host) + "': " + why +
                                          " (expected host, host:port or an http(s):// URL)");
}

struct UrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using Url = std::unique_ptr<CURLU, UrlDeleter>;

// One part of a parsed URL, or nothing if the URL has none.
std::optional<std::string> part(const Url& url, CURLUPart which) {
    char* value = nullptr;
    if (curl_url_get(url.get(), which, &value, 0) != CURLUE_OK || value == nullptr) return {};
    std::string out(value);
    curl_free(value);
    return out;
}

}  // namespace

std::string api_base_url(std::string_view host) {
    if (host.empty()) bad_host(host, "it is empty");
    const bool has_scheme = host.find("://") != std::string_view::npos;
    std::string text(host);
    // A bare IPv6 address cannot carry a port (its last group would be
    // ambiguous): it is all address.
    if (!has_scheme && text.front() != '[' && text.find('/') == std::string::npos &&
        std::count(text.begin(), text.end(), ':') > 1) {
        text = "[" + text + "]";
    }

    Url url(curl_url());
    if (!url) throw std::bad_alloc();
    // Without a scheme libcurl takes https, which is what ejabberd's API
    // listener speaks by default.
    if (const CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(),
                                          CURLU_DEFAULT_SCHEME | CURLU_NON_SUPPORT_SCHEME);
        rc != CURLUE_OK) {
        bad_host(host, curl_url_strerror(rc));
    }
    const std::string scheme = part(url, CURLUPART_SCHEME).value_or("");
    if (scheme != "http" && scheme != "https") {
        bad_host(host, "only http:// and https:// are supported");
    }
    if (part(url, CURLUPART_USER) || part(url, CURLUPART_PASSWORD)) {
        bad_host(host, "credentials do not belong in the URL; use -u and -P");
    }
    if (part(url, CURLUPART_QUERY) || part(url, CURLUPART_FRAGMENT) ||
        text.find(' ') != std::string::npos) {
        bad_host(host, "the URL must not have a query, fragment or spaces");
    }
    const std::string authority =
        text.substr(0, text.find('/', has_scheme ? text.find("://") + 3 : 0));
    if (authority.back() == ':') bad_host(host, "the port must be a number from 1 to 65535");
    if (const auto port = part(url, CURLUPART_PORT); port && std::stol(*port) == 0) {
        bad_host(host, "the port must be a number from 1 to 65535");
    }
    if (!has_scheme && !part(url, CURLUPART_PORT)) {
        curl_url_set(url.get(), CURLUPART_PORT, default_api_port, 0);
    }
    std::string path = part(url, CURLUPART_PATH).value_or("");
    while (!path.empty() && path.back() == '/') path.pop_back();
    curl_url_set(url.get(), CURLUPART_PATH, path.empty() ? default_api_path : path.c_str(), 0);
    return part(url, CURLUPART_URL).value_or("");
}

bool names_api_version(const std::string& base) {
    size_t start = base.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    size_t slash = base.find('/', start);
    while (slash != std::string::npos) {
        const size_t next = base.find('/', slash + 1);
        const std::string_view segment = std::string_view(base).substr(
            slash + 1, next == std::string::npos ? next : next - slash - 1);
        if (segment.size() > 1 && segment.front() == 'v' &&
            std::all_of(segment.begin() + 1, segment.end(),
                        [](char c) { return c >= '0' && c <= '9'; })) {
            return true;
        }
        slash = next;
    }
    return false;
}

std::string command_url(const std::string& base, const std::string& command, bool versioned) {
    std::string url = base + "/" + command;
    if (versioned) url += "/v" + std::to_string(api_version);
    return url;
}

std::string url_host(const std::string& url) {
    size_t start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    const size_t end = url.find('/', start);
    std::string authority = url.substr(start, end == std::string::npos ? end : end - start);
    if (!authority.empty() && authority.front() == '[') {
        return authority.substr(1, authority.find(']') - 1);
    }
    return authority.substr(0, authority.find(':'));
}

}  // namespace chatadm
