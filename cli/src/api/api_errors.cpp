#include "api/api_errors.hpp"

#include <cstdio>
#include <optional>

#include "api/endpoint.hpp"
#include "output/text_escape.hpp"

namespace chatadm {

namespace {

using nlohmann::json;

std::optional<json> parse_json(const std::string& body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

// ejabberd 23.01 sends {"status":"error","code":N,"message":"..."} for most
// errors but a bare JSON string for argument errors and some 500s.
std::string server_message(const std::optional<json>& j) {
    if (!j) return {};
    if (j->is_string()) return j->get<std::string>();
    if (j->is_object()) {
        auto it = j->find("message");
        if (it != j->end() && it->is_string()) return it->get<std::string>();
    }
    return {};
}

std::string says(const std::string& message) {
    return message.empty() ? std::string() : " (server says: " + escape_line(message) + ")";
}

// Names what came back instead of JSON, so a proxy's error page or a web
// server at the wrong path is recognisable in the message.
std::string describe_non_json(const HttpResponse& r) {
    const std::string& b = r.body;
    std::string lowered;
    for (size_t i = 0; i < b.size() && i < 4096; ++i) {
        const char c = b[i];
        lowered += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    const bool html = lowered.find("<html") != std::string::npos ||
                      lowered.find("<!doctype html") != std::string::npos ||
                      r.content_type.find("html") != std::string::npos;
    if (html) {
        std::string what = "an HTML page";
        const size_t open = lowered.find("<title>");
        const size_t close = lowered.find("</title>");
        if (open != std::string::npos && close != std::string::npos && close > open + 7) {
            what += " titled \"" + escape_line(b.substr(open + 7, close - open - 7)) + "\"";
        } else if (const size_t h1 = lowered.find("<h1>"); h1 != std::string::npos) {
            const size_t end = lowered.find("</h1>", h1);
            if (end != std::string::npos) {
                what += " saying \"" + escape_line(b.substr(h1 + 4, end - h1 - 4)) + "\"";
            }
        }
        return what;
    }
    if (b.empty()) return "an empty body";
    std::string excerpt = b.substr(0, 60);
    return "non-JSON text \"" + escape_line(excerpt) + (b.size() > 60 ? "...\"" : "\"");
}

std::string who(const CallContext& call) {
    switch (call.auth.kind) {
        case Auth::Kind::basic:
            return call.auth.user;
        case Auth::Kind::bearer:
            return "the OAuth token's account";
        case Auth::Kind::none:
            break;
    }
    return "an unauthenticated caller";
}

}  // namespace

json interpret_response(const CallContext& call, const HttpResponse& r) {
    const std::optional<json> body = parse_json(r.body);
    const std::string msg = server_message(body);
    const long status = r.status;
    const std::string code = "HTTP " + std::to_string(status);

    if (status == 200) {
        if (body) return *body;
        throw ApiError(ExitStatus::failure,
                       "the reply from " + call.url + " is not JSON but " + describe_non_json(r) +
                           ": is -h pointing at ejabberd's HTTP API, or is a proxy answering "
                           "instead?",
                       status, false);
    }
    if (status >= 300 && status < 400) {
        throw ApiError(
            ExitStatus::failure,
            call.url + " redirects (" + code + ") to " +
                (r.location.empty() ? std::string("an unnamed place") : escape_line(r.location)) +
                "; give the API's real URL with -h",
            status, false);
    }
    // Below: error statuses. A non-JSON error body is not ejabberd talking.
    if (!body && status != 401 && status != 403) {
        std::string advice;
        if (status == 404) {
            advice =
                ": is the API path right? ejabberd serves it where ejabberd.yml's "
                "request_handlers say (default /api); give the full URL with -h";
        } else if (status >= 500) {
            advice = ": a proxy could not reach ejabberd, or ejabberd is not running there";
        } else {
            advice = ": not an ejabberd API reply";
        }
        throw ApiError(ExitStatus::failure,
                       code + " from " + call.url + " with " + describe_non_json(r) + advice,
                       status, false);
    }

    switch (status) {
        case 401: {
            std::string text;
            if (call.auth.kind == Auth::Kind::basic) {
                text = "authentication failed at " + call.url + " as " +
                       escape_line(call.auth.user) + ": wrong admin JID or password" + says(msg);
                if (call.auth.user.find('@') == std::string::npos) {
                    text += "; the admin JID needs its domain, e.g. " +
                            escape_line(call.auth.user) + "@" + url_host(call.url);
                }
            } else if (call.auth.kind == Auth::Kind::bearer) {
                text = "the OAuth token was rejected by " + call.url + says(msg) +
                       ": it may be expired or lack the ejabberd:admin scope; issue a new one "
                       "with: ejabberdctl oauth_issue_token ADMIN-JID 3600 ejabberd:admin";
            } else {
                text = call.url +
                       " requires authentication: give an admin JID with -u (and its password "
                       "with -P, CHATADM_PASSWORD_FILE, the config file or the prompt), or an "
                       "OAuth token in CHATADM_TOKEN";
            }
            throw ApiError(ExitStatus::auth, text, status, false);
        }
        case 403: {
            std::string text = "permission denied: " + who(call) + " may not run '" + call.command +
                               "' at " + call.url + says(msg);
            if (call.auth.kind == Auth::Kind::none) {
                text +=
                    "; no credentials were sent: give an admin JID with -u, or set "
                    "CHATADM_TOKEN";
            } else {
                text +=
                    "; allow it in api_permissions in ejabberd.yml (e.g. add the account "
                    "to the admin acl)";
            }
            throw ApiError(ExitStatus::auth, text, status, false);
        }
        case 404:
            if (msg == "Endpoint not found.") {
                throw ApiError(ExitStatus::failure,
                               "the server at " + call.url + " has no command '" + call.command +
                                   "' (the module providing it is not loaded)",
                               status, true);
            }
            throw ApiError(ExitStatus::not_found,
                           "not found: " + (msg.empty() ? call.command : escape_line(msg)), status,
                           false, msg);
        case 400:
            throw ApiError(
                ExitStatus::usage,
                "the server rejected the arguments of '" + call.command + "'" + says(msg), status,
                false, msg);
        default:
            break;
    }
    std::string text = code + " from " + call.url + ": '" + call.command + "' failed" + says(msg);
    if (status >= 500 && (msg.empty() || msg == "internal_error")) {
        text += "; see ejabberd's error.log on the server for details";
    }
    throw ApiError(ExitStatus::failure, text, status, false);
}

std::string describe_transport_error(const TransportError& error, const std::string& url,
                                     long timeout_ms) {
    const std::string detail = escape_line(error.what());
    const std::string host = url_host(url);
    switch (error.kind()) {
        case TransportFailure::resolve:
            return "cannot resolve host '" + host + "' (" + detail +
                   "): check -h, CHATADM_HOST or 'host' in the config file";
        case TransportFailure::connect:
            return "cannot connect to " + url + " (" + detail +
                   "): is ejabberd running with its HTTP API on that port? (the default is 5443)";
        case TransportFailure::timeout: {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(timeout_ms) / 1000.0);
            return "no reply from " + url + " within " + seconds +
                   " s: the server is down, overloaded or unreachable; check -h, or allow more "
                   "time with -T";
        }
        case TransportFailure::tls_untrusted:
            if (detail.find("subject name") != std::string::npos ||
                detail.find("does not match") != std::string::npos) {
                return "the TLS certificate of " + url + " is for another name (" + detail +
                       "): give -h the host name the certificate names, or (insecure) skip the "
                       "check with -k";
            }
            return "the TLS certificate of " + url + " is not trusted (" + detail +
                   "): give the CA that signed it with -C ca-file, or (insecure) skip the check "
                   "with -k";
        case TransportFailure::tls_ca_file:
            return "cannot use the CA file for " + url + " (" + detail +
                   "): check the path given with -C or ca_file";
        case TransportFailure::tls_handshake:
            return "TLS handshake with " + url + " failed (" + detail +
                   "): if that port serves plain HTTP, use -h http://" + host + ":PORT";
        case TransportFailure::bad_reply:
            return "no valid HTTP reply from " + url + " (" + detail +
                   "): if that port expects TLS, use https://; otherwise it is not an HTTP "
                   "server";
        case TransportFailure::other:
            break;
    }
    return "request to " + url + " failed: " + detail;
}

}  // namespace chatadm
