#include "endpoint.hpp"

#include <algorithm>

#include "errors.hpp"

namespace chatadm {

namespace {

[[noreturn]] void bad_host(std::string_view host, const std::string& why) {
    throw CliError(ExitStatus::usage, "invalid host '" + std::string(host) + "': " + why +
                                          " (expected host, host:port or an http(s):// URL)");
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

bool valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5) return false;
    long n = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + (c - '0');
    }
    return n >= 1 && n <= 65535;
}

bool valid_hostname(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
    });
}

bool valid_ipv6(std::string_view addr) {
    if (addr.empty()) return false;
    return std::all_of(addr.begin(), addr.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.' || c == '%';
    });
}

std::string normalise_path(std::string_view host, std::string_view path) {
    if (path.find_first_of("?# ") != std::string_view::npos) {
        bad_host(host, "the URL must not have a query, fragment or spaces");
    }
    std::string p(path);
    while (!p.empty() && p.back() == '/') p.pop_back();
    return p.empty() ? default_api_path : p;
}

}  // namespace

std::string api_base_url(std::string_view host) {
    if (host.empty()) bad_host(host, "it is empty");

    if (const size_t sep = host.find("://"); sep != std::string_view::npos) {
        const std::string scheme = lower(host.substr(0, sep));
        if (scheme != "http" && scheme != "https") {
            bad_host(host, "only http:// and https:// are supported");
        }
        std::string_view rest = host.substr(sep + 3);
        const size_t slash = rest.find('/');
        const std::string_view authority = rest.substr(0, slash);
        if (authority.empty()) bad_host(host, "the URL has no host");
        if (authority.find('@') != std::string_view::npos) {
            bad_host(host, "credentials do not belong in the URL; use -u and -P");
        }
        const std::string_view path =
            slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        return scheme + "://" + std::string(authority) + normalise_path(host, path);
    }

    const size_t slash = host.find('/');
    const std::string_view authority = host.substr(0, slash);
    const std::string_view path =
        slash == std::string_view::npos ? std::string_view{} : host.substr(slash);
    std::string name;
    std::string port = default_api_port;

    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) bad_host(host, "missing ']'");
        const std::string_view addr = authority.substr(1, close - 1);
        if (!valid_ipv6(addr)) bad_host(host, "not an IPv6 address between [ ]");
        name = "[" + std::string(addr) + "]";
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':' || !valid_port(after.substr(1))) {
                bad_host(host, "the port must be a number from 1 to 65535");
            }
            port = std::string(after.substr(1));
        }
    } else if (std::count(authority.begin(), authority.end(), ':') > 1) {
        // A bare IPv6 address cannot carry a port: the last group would be ambiguous.
        if (!valid_ipv6(authority)) bad_host(host, "not a host name or address");
        name = "[" + std::string(authority) + "]";
    } else {
        const size_t colon = authority.find(':');
        name = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            if (!valid_port(authority.substr(colon + 1))) {
                bad_host(host, "the port must be a number from 1 to 65535");
            }
            port = std::string(authority.substr(colon + 1));
        }
        if (!valid_hostname(name)) bad_host(host, "not a host name or address");
    }
    return "https://" + name + ":" + port + normalise_path(host, path);
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
