// The HTTP exchange as the rest of chatadm sees it. The interface keeps
// libcurl out of command logic, so commands are tested with a fake.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace chatadm {

struct HttpResponse {
    long status = 0;
    std::string content_type;
    std::string location;  // for redirects
    std::string body;
};

// Why a request got no HTTP response at all; each kind has its own advice.
enum class TransportFailure {
    resolve,        // host name unknown
    connect,        // refused / unreachable
    timeout,        // no (complete) answer in time
    tls_untrusted,  // certificate not trusted or wrong name
    tls_ca_file,    // the CA file given could not be used
    tls_handshake,  // TLS failed before any certificate check, e.g. plain HTTP port
    bad_reply,      // connection closed or garbage instead of HTTP, e.g. TLS port over http://
    other,
};

class TransportError : public std::runtime_error {
  public:
    TransportError(TransportFailure kind, const std::string& detail)
        : std::runtime_error(detail), kind_(kind) {}
    TransportFailure kind() const { return kind_; }

  private:
    TransportFailure kind_;
};

struct Auth {
    enum class Kind { none, basic, bearer };
    Kind kind = Kind::none;
    std::string user;    // basic
    std::string secret;  // password (basic) or token (bearer)
};

struct TransportOptions {
    bool insecure = false;
    std::optional<std::string> ca_file;
    long timeout_ms = 30000;
    Auth auth;
    int verbosity = 1;
    std::ostream* trace = nullptr;  // where -v reports each request
};

class Transport {
  public:
    virtual ~Transport() = default;
    // POSTs a JSON body; returns any HTTP response (error statuses included),
    // throws TransportError when there is none.
    virtual HttpResponse post(const std::string& url, const std::string& json_body) = 0;
};

using TransportFactory = std::function<std::unique_ptr<Transport>(const TransportOptions&)>;

}  // namespace chatadm
