// What a command needs while it runs: the API, the output streams, the
// output mode, and lookups shared between commands.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "api/api_client.hpp"
#include "jid.hpp"

namespace chatadm {

struct Io {
    std::ostream& out;
    std::ostream& err;
    std::istream& in;
    bool in_is_terminal = false;
};

class Session {
  public:
    Session(ApiClient& api, Io& io, bool json, int verbosity)
        : api_(api), io_(io), json_(json), verbosity_(verbosity) {}

    ApiClient& api() { return api_; }
    Io& io() { return io_; }
    bool json() const { return json_; }
    int verbosity() const { return verbosity_; }

    // A remark for people on stderr, silenced by -q.
    void note(const std::string& text);
    // Details shown only with -v.
    void detail(const std::string& text);

    // The server's virtual hosts (registered_vhosts), fetched once.
    const std::vector<std::string>& vhosts();
    // The host that stock commands use for a bare user name: the first vhost.
    std::string default_host();
    // The JID with its domain filled in from default_host() when missing.
    Jid qualified(Jid jid);

  private:
    ApiClient& api_;
    Io& io_;
    bool json_;
    int verbosity_;
    std::optional<std::vector<std::string>> vhosts_;
    bool default_host_explained_ = false;
};

}  // namespace chatadm
