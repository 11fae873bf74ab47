// The libcurl implementation of Transport.
#pragma once

#include <memory>

#include "api/transport.hpp"

namespace chatadm {

// Maps a CURLcode to the advice category; separate so it can be tested
// without a network.
TransportFailure classify_curl_code(int code);

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options);

}  // namespace chatadm
