// The installed program as a process: real argv, stdin, stdout, stderr and
// exit status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fake_server.hpp"
#include "test_support.hpp"

extern char** environ;

namespace chatadm {
namespace {

using test::FakeHttpServer;
using test::http_response;
using test::RecordedRequest;

struct Process {
    int status;
    std::string out;
    std::string err;
};

class Pipe {
  public:
    Pipe() {
        if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    int read_end() const { return fds_[0]; }
    int write_end() const { return fds_[1]; }
    void close_read() { close(0); }
    void close_write() { close(1); }

  private:
    void close(int i) {
        if (fds_[i] >= 0) ::close(fds_[i]);
        fds_[i] = -1;
    }
    int fds_[2];
};

// Runs the chatadm binary with a clean environment (HOME in a temp dir).
Process run_binary(const std::vector<std::string>& args, const std::string& input,
                   const std::vector<std::string>& extra_env = {}) {
    test::TempDir home;
    std::vector<std::string> env_strings = {"HOME=" + home.path().string(), "PATH=/usr/bin:/bin"};
    env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
    std::vector<std::string> argv_strings = {CHATADM_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    Pipe in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read_end(), 0);
    posix_spawn_file_actions_adddup2(&actions, out.write_end(), 1);
    posix_spawn_file_actions_adddup2(&actions, err.write_end(), 2);
    // setsid: no controlling terminal, as in CI, so chatadm cannot prompt.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, CHATADM_BINARY, &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    in.close_read();
    out.close_write();
    err.close_write();
    (void)!::write(in.write_end(), input.data(), input.size());
    in.close_write();

    Process p{};
    pollfd fds[2] = {{out.read_end(), POLLIN, 0}, {err.read_end(), POLLIN, 0}};
    std::string* sinks[2] = {&p.out, &p.err};
    int open = 2;
    while (open > 0) {
        if (::poll(fds, 2, 20000) <= 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                fds[i].fd = -1;
                --open;
            } else {
                sinks[i]->append(buf, static_cast<size_t>(n));
            }
        }
    }
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    p.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return p;
}

TEST(Binary, NoArgumentsIsUsageAndStatus2) {
    const Process p = run_binary({}, "");
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.out, "");
    EXPECT_EQ(p.err.rfind("usage: chatadm", 0), 0u);
}

TEST(Binary, UnknownOptionIsStatus2) {
    const Process p = run_binary({"-jZ", "status"}, "");
    EXPECT_EQ(p.status, 2);
    EXPECT_EQ(p.err.rfind("chatadm: unknown option -Z\nusage: chatadm", 0), 0u) << p.err;
}

TEST(Binary, HelpIsStatus0OnStdout) {
    const Process p = run_binary({"help"}, "");
    EXPECT_EQ(p.status, 0);
    EXPECT_EQ(p.err, "");
    EXPECT_NE(p.out.find("exit status:"), std::string::npos);
}

TEST(Binary, ConnectionRefusedIsStatus1) {
    const std::string port = std::to_string(test::closed_port());
    const Process p = run_binary({"-h", "http://127.0.0.1:" + port, "status"}, "");
    EXPECT_EQ(p.status, 1);
    EXPECT_NE(p.err.find("cannot connect to http://127.0.0.1:" + port + "/api/status"),
              std::string::npos)
        << p.err;
}

TEST(Binary, TimeoutIsStatus1) {
    FakeHttpServer server([](const RecordedRequest&) { return std::nullopt; });
    const Process p = run_binary({"-T", "0.3", "-h", server.url(), "status"}, "");
    EXPECT_EQ(p.status, 1);
    EXPECT_NE(p.err.find("within 0.3 s"), std::string::npos) << p.err;
}

TEST(Binary, NoPasswordAndNoTerminalIsStatus3) {
    const Process p = run_binary({"-h", "http://127.0.0.1:1", "-u", "admin@x", "status"}, "");
    EXPECT_EQ(p.status, 3);
    EXPECT_NE(p.err.find("no terminal to ask on"), std::string::npos) << p.err;
}

// "chatadm send alice bob -" with the message on standard input, the
// password from CHATADM_PASSWORD_FILE, and -j output parsed back.
TEST(Binary, SendFromStdinEndToEnd) {
    FakeHttpServer server([](const RecordedRequest& req) -> std::optional<std::string> {
        if (req.request_line.find("/registered_vhosts/v0 ") != std::string::npos) {
            return http_response(200, "[\"localhost\"]");
        }
        return http_response(200, "0");  // check_account: exists; send_message: ok
    });
    test::TempDir secrets;
    const std::string pw = secrets.write("pw", "secret\n");
    const Process p =
        run_binary({"-j", "-h", server.url(), "-u", "admin@localhost", "send", "alice", "bob", "-"},
                   "hello\nfrom stdin\n", {"CHATADM_PASSWORD_FILE=" + pw});
    ASSERT_EQ(p.status, 0) << p.err;
    const auto result = nlohmann::json::parse(p.out);
    EXPECT_EQ(result["to"], "bob@localhost");
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 3u);
    const auto sent = nlohmann::json::parse(reqs[2].body);
    EXPECT_EQ(sent["body"], "hello\nfrom stdin");
    EXPECT_EQ(reqs[2].header("authorization"), "Basic YWRtaW5AbG9jYWxob3N0OnNlY3JldA==");
}

// ejabberd 23.01 takes no /v0 after the command and answers it with 400
// "Missing command name." before running anything (and serves version 0
// without it); chatadm then drops the suffix for the rest of the run.
TEST(Binary, ServerWithoutVersionSuffixesIsAskedWithoutThem) {
    FakeHttpServer server([](const RecordedRequest& req) -> std::optional<std::string> {
        if (req.request_line.find("/v0 ") != std::string::npos) {
            return http_response(
                400, R"({"status":"error","code":40,"message":"Missing command name."})");
        }
        if (req.request_line.find("/registered_vhosts ") != std::string::npos) {
            return http_response(200, "[\"localhost\"]");
        }
        return http_response(200, "0");
    });
    const Process p = run_binary({"-h", server.url(), "send", "alice", "bob", "hi"}, "");
    ASSERT_EQ(p.status, 0) << p.err;
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_NE(reqs[0].request_line.find("/api/registered_vhosts/v0 "), std::string::npos);
    EXPECT_NE(reqs[1].request_line.find("/api/registered_vhosts "), std::string::npos);
    EXPECT_NE(reqs[2].request_line.find("/api/check_account "), std::string::npos);
    EXPECT_NE(reqs[3].request_line.find("/api/send_message "), std::string::npos);
}

// A server that takes the suffix (ejabberd 24.02 and later, where the bare
// URL means the newest version) is asked for version 0 every time.
TEST(Binary, EveryCallPinsVersion0) {
    FakeHttpServer server([](const RecordedRequest& req) -> std::optional<std::string> {
        if (req.request_line.find("/registered_vhosts/v0 ") != std::string::npos) {
            return http_response(200, "[\"localhost\"]");
        }
        return http_response(200, "0");
    });
    const Process p = run_binary({"-h", server.url(), "send", "alice", "bob", "hi"}, "");
    ASSERT_EQ(p.status, 0) << p.err;
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 3u);
    for (const auto& r : reqs) {
        EXPECT_NE(r.request_line.find("/v0 HTTP/1.1"), std::string::npos) << r.request_line;
    }
}

// -h with a path that names a version (mod_http_api mounted at /api/v0): the
// mount selects it on every release, so no suffix is added.
TEST(Binary, VersionInTheHostUrlIsKept) {
    FakeHttpServer server([](const RecordedRequest&) -> std::optional<std::string> {
        return http_response(200, "\"ejabberd is running\"");
    });
    run_binary({"-h", server.url("/api/v0"), "status"}, "");
    const auto reqs = server.requests();
    ASSERT_FALSE(reqs.empty());
    EXPECT_EQ(reqs[0].request_line, "POST /api/v0/status HTTP/1.1");
}

TEST(Binary, UnknownRecipientIsStatus4) {
    FakeHttpServer server([](const RecordedRequest& req) -> std::optional<std::string> {
        if (req.request_line.find("/registered_vhosts/v0 ") != std::string::npos) {
            return http_response(200, "[\"localhost\"]");
        }
        return http_response(200, "1");  // check_account: no such account
    });
    const Process p = run_binary({"-h", server.url(), "send", "alice", "zed", "hi"}, "");
    EXPECT_EQ(p.status, 4);
    EXPECT_EQ(p.err, "chatadm: no such user: zed@localhost; nothing was sent\n");
    EXPECT_EQ(server.requests().size(), 2u);
}

// 2,500 names on standard input: three unread_counts requests (1,000 a
// batch) over one keep-alive connection, the output in input order.
TEST(Binary, ManyCountsFromStdinInBatchesOverOneConnection) {
    FakeHttpServer server([](const RecordedRequest& req) -> std::optional<std::string> {
        nlohmann::json rows = nlohmann::json::array();
        const nlohmann::json args = nlohmann::json::parse(req.body);
        for (const auto& u : args.at("users")) {
            const std::string name = u.get<std::string>();
            rows.push_back({{"user", name + "@localhost"}, {"count", std::stoi(name.substr(1))}});
        }
        return http_response(200, rows.dump());
    });
    std::string input, expected;
    for (int i = 0; i < 2500; ++i) {
        input += "u" + std::to_string(i) + "\n";
        expected += "u" + std::to_string(i) + "@localhost\t" + std::to_string(i) + "\n";
    }
    const Process p = run_binary({"-h", server.url(), "unread", "-c", "-"}, input);
    ASSERT_EQ(p.status, 0) << p.err;
    EXPECT_EQ(p.out, expected);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 3u);
    for (const auto& r : reqs) {
        EXPECT_NE(r.request_line.find("/api/unread_counts/v0 "), std::string::npos);
    }
    EXPECT_EQ(nlohmann::json::parse(reqs[2].body)["users"].size(), 500u);
    EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace chatadm
