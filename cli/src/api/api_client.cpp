#include "api/api_client.hpp"

#include "api/endpoint.hpp"

namespace chatadm {

ApiClient::ApiClient(Transport& transport, std::string base_url, const Auth& auth, long timeout_ms)
    : transport_(transport),
      base_url_(std::move(base_url)),
      auth_{auth.kind, auth.user, {}},
      timeout_ms_(timeout_ms),
      versioned_(!names_api_version(base_url_)) {}

namespace {

// ejabberd 24.02 and later serve an unversioned /api/<command> in the newest
// version of the command, whose arguments and results may differ from the
// ones chatadm was written for, and take /api/<command>/vN to pin one.
// ejabberd 23.01 and older serve only version 0 there and answer a version
// suffix with this error, before running anything: the call is then repeated
// without it, which is the same version.
bool takes_no_version_suffix(const HttpResponse& r) {
    return r.status == 400 && r.body.find("Missing command name") != std::string::npos;
}

}  // namespace

nlohmann::json ApiClient::call(const std::string& command, const nlohmann::json& args) {
    const std::string body = args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string url = command_url(base_url_, command, versioned_);
    const auto post = [&] {
        try {
            return transport_.post(url, body);
        } catch (const TransportError& e) {
            throw CliError(ExitStatus::failure, describe_transport_error(e, url, timeout_ms_));
        }
    };
    HttpResponse response = post();
    if (versioned_ && takes_no_version_suffix(response)) {
        versioned_ = false;
        url = command_url(base_url_, command, false);
        response = post();
    }
    return interpret_response(CallContext{command, url, auth_}, response);
}

}  // namespace chatadm
