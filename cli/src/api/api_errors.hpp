// Reading ejabberd's HTTP API replies: the result on success, otherwise an
// error that says what went wrong and what to do, with the right exit status.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/transport.hpp"
#include "errors.hpp"

namespace chatadm {

// An API call that failed after reaching the server (or a proxy).
class ApiError : public CliError {
  public:
    ApiError(ExitStatus status, const std::string& message, long http_status, bool endpoint_missing,
             std::string server_message = {})
        : CliError(status, message),
          http_status_(http_status),
          endpoint_missing_(endpoint_missing),
          server_message_(std::move(server_message)) {}
    long http_status() const { return http_status_; }
    // The server's own words, if any, for callers that rephrase the error.
    const std::string& server_message() const { return server_message_; }
    // ejabberd has no such command: its module is not loaded. Callers turn
    // this into advice about the module (e.g. mod_unread) or a fallback.
    bool endpoint_missing() const { return endpoint_missing_; }

  private:
    long http_status_;
    bool endpoint_missing_;
    std::string server_message_;
};

// What the message needs to know about the call besides the response.
struct CallContext {
    std::string command;
    std::string url;
    Auth auth;  // who asked, for messages (never the secret)
};

// The parsed result of a 200 reply; otherwise throws ApiError:
//   401 -> auth (3), 403 -> auth (3), 404 "Endpoint not found." -> failure
//   with endpoint_missing, other 404 -> not_found (4), 400 -> usage (2),
//   3xx/5xx/non-JSON/other -> failure (1).
nlohmann::json interpret_response(const CallContext& call, const HttpResponse& response);

// The operator's message for a request that got no HTTP response (exit 1).
std::string describe_transport_error(const TransportError& error, const std::string& url,
                                     long timeout_ms);

}  // namespace chatadm
