// Turning the -h argument into the base URL of ejabberd's HTTP API.
#pragma once

#include <string>
#include <string_view>

namespace chatadm {

inline constexpr const char* default_api_port = "5443";
inline constexpr const char* default_api_path = "/api";

// Accepts:
//   host, host:port, [v6addr], [v6addr]:port, v6addr  -> https://host:5443/api
//   any of those followed by /path                   -> that path instead of /api
//   http://... or https://...                        -> as given (its scheme's
//                                                       default port), /api if no path
// Returns the base without a trailing '/', e.g. "https://lb:5443/api".
// Throws CliError(usage) naming the problem.
std::string api_base_url(std::string_view host);

// The HTTP API version chatadm speaks: the commands' argument and result
// shapes it was written for.
inline constexpr int api_version = 0;

// Whether the base URL's path already names an API version (a segment "vN",
// as when the operator mounts mod_http_api at /api/v0): the server then
// serves that version at base/command, on every ejabberd release.
bool names_api_version(const std::string& base);

// The URL of one API command: base + "/" + command, followed by
// "/v<api_version>" when versioned is true.
std::string command_url(const std::string& base, const std::string& command,
                        bool versioned = false);

// The host part of a base URL (for messages and loopback checks).
std::string url_host(const std::string& url);

}  // namespace chatadm
