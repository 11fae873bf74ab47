#include "commands/session.hpp"

#include "api/results.hpp"
#include "errors.hpp"

namespace chatadm {

void Session::note(const std::string& text) {
    if (verbosity_ >= 1) io_.err << "chatadm: " << text << "\n";
}

void Session::detail(const std::string& text) {
    if (verbosity_ >= 2) io_.err << "chatadm: " << text << "\n";
}

const std::vector<std::string>& Session::vhosts() {
    if (!vhosts_) {
        vhosts_ = result_string_list(api_.call("registered_vhosts", nlohmann::json::object()),
                                     "registered_vhosts");
    }
    return *vhosts_;
}

std::string Session::default_host() {
    const auto& hosts = vhosts();
    if (hosts.empty()) {
        throw CliError(ExitStatus::failure,
                       "the server reports no virtual hosts; give user names as user@host");
    }
    if (!default_host_explained_) {
        detail("a bare user name means a user of " + hosts.front() +
               " (the first of registered_vhosts)");
        default_host_explained_ = true;
    }
    return hosts.front();
}

Jid Session::qualified(Jid jid) {
    if (jid.domain.empty()) jid.domain = default_host();
    return jid;
}

}  // namespace chatadm
