// One ejabberd HTTP API command call: URL, JSON in, JSON out, errors mapped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/api_errors.hpp"
#include "api/transport.hpp"

namespace chatadm {

class ApiClient {
  public:
    // auth: the identity the transport sends, named in error messages.
    ApiClient(Transport& transport, std::string base_url, const Auth& auth, long timeout_ms);

    // POST base/command with args; returns the result or throws ApiError
    // (server answered) or CliError (no answer), both with advice.
    nlohmann::json call(const std::string& command, const nlohmann::json& args);

    const std::string& base_url() const { return base_url_; }

  private:
    Transport& transport_;
    std::string base_url_;
    Auth auth_;  // without its secret
    long timeout_ms_;
    // Whether command URLs carry chatadm's API version; cleared for the rest
    // of the run when the server turns out to take none (see call()).
    bool versioned_;
};

}  // namespace chatadm
