// Running chatadm in-process against a scripted fake API, with a fake
// environment, terminal and home directory.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "api/transport.hpp"
#include "app.hpp"

namespace chatadm::test {

inline HttpResponse reply(long status, const std::string& body,
                          const std::string& content_type = "application/json") {
    HttpResponse r;
    r.status = status;
    r.body = body;
    r.content_type = content_type;
    return r;
}
inline HttpResponse ok(const nlohmann::json& result) {
    return reply(200, result.dump());
}
inline HttpResponse api_error(long status, int code, const std::string& message) {
    return reply(status,
                 nlohmann::json{{"status", "error"}, {"code", code}, {"message", message}}.dump());
}
inline HttpResponse endpoint_not_found() {
    return api_error(404, 40, "Endpoint not found.");
}

// Answers by command name (the URL's last segment); unscripted commands get
// ejabberd's 404 "Endpoint not found.", as when their module is not loaded.
class FakeApi {
  public:
    struct Call {
        std::string url;
        std::string command;
        nlohmann::json args;
        std::optional<int> version;  // a trailing /vN of the URL
    };

    // false: answer like ejabberd 23.01, which takes no /vN after the
    // command; true: like 24.02 and later.
    bool takes_version_suffix = true;

    void on(const std::string& command, HttpResponse response) {
        replies_[command].push_back(std::move(response));
    }
    void fail(const std::string& command, TransportFailure kind, const std::string& detail) {
        failures_.insert_or_assign(command, TransportError(kind, detail));
    }

    HttpResponse post(const std::string& url, const std::string& body) {
        std::string path = url;
        std::optional<int> version;
        if (const size_t slash = path.rfind('/');
            path.compare(slash + 1, 1, "v") == 0 && path.size() > slash + 2 &&
            path.find_first_not_of("0123456789", slash + 2) == std::string::npos) {
            version = std::stoi(path.substr(slash + 2));
            path.erase(slash);
        }
        const std::string command = path.substr(path.rfind('/') + 1);
        calls.push_back({url, command, nlohmann::json::parse(body), version});
        if (version && !takes_version_suffix) {
            // ejabberd 23.01: the handler sees two path segments.
            return {400, "application/json", "",
                    R"({"status":"error","code":40,"message":"Missing command name."})"};
        }
        if (auto f = failures_.find(command); f != failures_.end()) throw f->second;
        auto it = replies_.find(command);
        if (it == replies_.end() || it->second.empty()) return endpoint_not_found();
        // The last scripted reply repeats; earlier ones are used up in order.
        HttpResponse r = it->second.front();
        if (it->second.size() > 1) it->second.pop_front();
        return r;
    }

    std::vector<std::string> commands() const {
        std::vector<std::string> out;
        for (const auto& c : calls) out.push_back(c.command);
        return out;
    }
    const Call* find(const std::string& command) const {
        for (const auto& c : calls) {
            if (c.command == command) return &c;
        }
        return nullptr;
    }

    std::vector<Call> calls;
    std::optional<TransportOptions> options;  // as chatadm configured the transport

  private:
    std::map<std::string, std::deque<HttpResponse>> replies_;
    std::map<std::string, TransportError> failures_;
};

class FakeTransport final : public Transport {
  public:
    explicit FakeTransport(FakeApi& api) : api_(api) {}
    HttpResponse post(const std::string& url, const std::string& body) override {
        return api_.post(url, body);
    }

  private:
    FakeApi& api_;
};

struct Outcome {
    int status;
    std::string out;
    std::string err;
};

// A temporary directory standing in for $HOME, removed afterwards.
class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "chatadm-test-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

    // Writes a file (creating parent directories) with the given mode.
    std::string write(const std::string& relative, const std::string& text, unsigned mode = 0600) {
        const auto p = path_ / relative;
        std::filesystem::create_directories(p.parent_path());
        {
            std::ofstream f(p);
            f << text;
        }
        std::filesystem::permissions(p, static_cast<std::filesystem::perms>(mode),
                                     std::filesystem::perm_options::replace);
        return p.string();
    }

  private:
    std::filesystem::path path_;
};

// Runs chatadm in-process. By default HOME is an empty temp dir, there is no
// system config and no terminal, and the server answers from `api`.
class Harness {
  public:
    Harness() { vars["HOME"] = home.path().string(); }

    // Each run starts with an empty call log; scripted replies carry over.
    Outcome run(const std::vector<std::string>& args, const std::string& input = "") {
        api.calls.clear();
        std::ostringstream out, err;
        std::istringstream in(input);
        Io io{out, err, in, stdin_is_terminal};
        Environment env;
        env.getenv = [this](const std::string& name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
        env.make_transport = [this](const TransportOptions& options) -> std::unique_ptr<Transport> {
            api.options = options;
            return std::make_unique<FakeTransport>(api);
        };
        env.prompt_password = [this](const std::string& prompt) -> std::optional<std::string> {
            prompts.push_back(prompt);
            return typed_password;
        };
        env.system_config = system_config;
        const int status = chatadm::run(args, io, env);
        return {status, out.str(), err.str()};
    }

    FakeApi api;
    TempDir home;
    std::map<std::string, std::string> vars;
    std::string system_config = "/nonexistent/chatadm.conf";
    std::optional<std::string> typed_password;  // nullopt: no terminal
    std::vector<std::string> prompts;
    bool stdin_is_terminal = false;
};

}  // namespace chatadm::test
