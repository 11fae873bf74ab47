#include "api_client.hpp"

#include "endpoint.hpp"

namespace chatadm {

ApiClient::ApiClient(Transport& transport, std::string base_url, Auth::Kind auth, std::string user,
                     long timeout_ms)
    : transport_(transport),
      base_url_(std::move(base_url)),
      auth_(auth),
      user_(std::move(user)),
      timeout_ms_(timeout_ms) {}

nlohmann::json ApiClient::call(const std::string& command, const nlohmann::json& args) {
    const std::string url = command_url(base_url_, command);
    HttpResponse response;
    try {
        response = transport_.post(
            url, args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const TransportError& e) {
        throw CliError(ExitStatus::failure, describe_transport_error(e, url, timeout_ms_));
    }
    return interpret_response(CallContext{command, url, auth_, user_}, response);
}

}  // namespace chatadm
