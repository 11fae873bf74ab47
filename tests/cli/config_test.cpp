// Config files, environment, precedence and the handling of secrets.
#include "settings/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.hpp"
#include "settings/password.hpp"
#include "settings/settings.hpp"
#include "test_support.hpp"

namespace chatadm {
namespace {

using test::Harness;
using test::ok;
using test::TempDir;

std::string cli_error(const std::function<void()>& f, ExitStatus* status = nullptr) {
    try {
        f();
    } catch (const CliError& e) {
        if (status != nullptr) *status = e.status();
        return e.what();
    }
    return "(no error)";
}

TEST(ParseConfig, KeysCommentsSpacesQuotes) {
    const Settings s = parse_config(
        "# chatadm config\n"
        "\n"
        "host = lb:5443\n"
        "  user=admin@example.com  \n"
        "password = \" two spaces \"\n"
        "ca_file = '/etc/ssl/ca.pem'\n"
        "insecure = no\r\n"
        "timeout = 1.5\n"
        "token = abc#def\n",
        "cfg");
    EXPECT_EQ(*s.host, "lb:5443");
    EXPECT_EQ(*s.user, "admin@example.com");
    EXPECT_EQ(*s.password, " two spaces ");
    EXPECT_EQ(*s.ca_file, "/etc/ssl/ca.pem");
    EXPECT_FALSE(*s.insecure);
    EXPECT_EQ(*s.timeout_ms, 1500);
    EXPECT_EQ(*s.token, "abc#def");  // '#' starts a comment only at the start of a line
    EXPECT_FALSE(s.password_file);
}

TEST(ParseConfig, LaterLinesWin) {
    EXPECT_EQ(*parse_config("host = a\nhost = b\n", "cfg").host, "b");
}

TEST(ParseConfig, ErrorsNameFileAndLine) {
    ExitStatus status{};
    EXPECT_EQ(cli_error([] { parse_config("host = a\nbogus\n", "/c"); }, &status),
              "/c:2: expected 'key = value', got 'bogus'");
    EXPECT_EQ(status, ExitStatus::usage);
    EXPECT_NE(cli_error([] { parse_config("hots = a\n", "/c"); }).find("/c:1: unknown key 'hots'"),
              std::string::npos);
    EXPECT_EQ(cli_error([] { parse_config("insecure = maybe\n", "/c"); }),
              "/c:1: insecure: 'maybe' is not true or false");
    EXPECT_NE(cli_error([] { parse_config("\n\ntimeout = soon\n", "/c"); }).find("/c:3: timeout:"),
              std::string::npos);
    EXPECT_EQ(cli_error([] { parse_config("user =\n", "/c"); }), "/c:1: 'user' has no value");
    EXPECT_EQ(cli_error([] { parse_config("password = a\npassword_file = b\n", "/c"); }),
              "/c: sets both password and password_file; keep one");
}

TEST(SecretFiles, ModesReadableByOthersAreRefused) {
    EXPECT_FALSE(readable_by_others(0600));
    EXPECT_FALSE(readable_by_others(0400));
    EXPECT_FALSE(readable_by_others(0622));  // writable is another problem, not a leak
    EXPECT_EQ(*readable_by_others(0640), "group");
    EXPECT_EQ(*readable_by_others(0604), "others");
    EXPECT_EQ(*readable_by_others(0644), "group and others");
    EXPECT_EQ(*exposed_secret_problem("/f", 0100644, "a password"),
              "refusing to use /f: it holds a password but is readable by group and others "
              "(mode 0644); make it private with: chmod 600 /f");
}

TEST(LoadConfigFile, RefusesExposedSecrets) {
    TempDir dir;
    ExitStatus status{};
    const std::string open = dir.write("open", "password = x\n", 0644);
    EXPECT_NE(cli_error([&] { load_config_file(open, false); }, &status).find("chmod 600 " + open),
              std::string::npos);
    EXPECT_EQ(status, ExitStatus::auth);
    const std::string group_token = dir.write("group", "token = t\n", 0640);
    EXPECT_NE(cli_error([&] { load_config_file(group_token, false); }).find("holds a token"),
              std::string::npos);
    // No secret, no problem; a private file with a secret is fine too.
    EXPECT_TRUE(load_config_file(dir.write("plain", "host = h\n", 0644), false));
    EXPECT_TRUE(load_config_file(dir.write("private", "password = x\n", 0600), false));
    EXPECT_FALSE(load_config_file((dir.path() / "missing").string(), false));
}

TEST(ConfigPaths, XdgThenHome) {
    std::map<std::string, std::string> vars;
    const GetEnv env = [&](const std::string& n) -> std::optional<std::string> {
        auto it = vars.find(n);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    EXPECT_FALSE(user_config_path(env));
    vars["HOME"] = "/home/a";
    EXPECT_EQ(*user_config_path(env), "/home/a/.config/chatadm/config");
    vars["XDG_CONFIG_HOME"] = "relative/ignored";
    EXPECT_EQ(*user_config_path(env), "/home/a/.config/chatadm/config");
    vars["XDG_CONFIG_HOME"] = "/xdg";
    EXPECT_EQ(*user_config_path(env), "/xdg/chatadm/config");
}

TEST(EnvironmentLayer, ReadsVariablesAndIgnoresEmptyOnes) {
    std::map<std::string, std::string> vars{{"CHATADM_HOST", "h"},
                                            {"CHATADM_USER", ""},
                                            {"CHATADM_PASSWORD_FILE", "/pw"},
                                            {"CHATADM_TOKEN", "t"}};
    const SettingsLayer l =
        environment_layer([&](const std::string& n) -> std::optional<std::string> {
            auto it = vars.find(n);
            return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
    EXPECT_EQ(*l.settings.host, "h");
    EXPECT_FALSE(l.settings.user);
    EXPECT_EQ(*l.settings.password_file, "/pw");
    EXPECT_EQ(*l.settings.token, "t");
}

SettingsLayer layer(const std::string& origin, Settings s) {
    return {origin, std::move(s)};
}

TEST(Precedence, FirstLayerSettingAFieldWins) {
    Settings cmd, env, user, sys;
    sys.host = "sys";
    sys.timeout_ms = 1000;
    sys.ca_file = "sys-ca";
    user.host = "user";
    user.insecure = true;
    env.host = "env";
    cmd.timeout_ms = 5000;
    const ConnectionSettings c =
        merge_connection({layer("command line", cmd), layer("environment", env), layer("~/u", user),
                          layer("/s", sys)});
    EXPECT_EQ(c.host, "env");
    EXPECT_EQ(c.timeout_ms, 5000);
    EXPECT_EQ(*c.ca_file, "sys-ca");
    EXPECT_TRUE(c.insecure);
    EXPECT_EQ(c.insecure_origin, "~/u");
    EXPECT_EQ(merge_connection({}).host, "localhost");
}

TEST(Credentials, ChosenAsAUnitFromTheHighestLayerThatMentionsThem) {
    Settings user_cfg;
    user_cfg.user = "admin@x";
    user_cfg.password = "pw";
    Settings env_token;
    env_token.token = "tok";
    Settings cmd_user;
    cmd_user.user = "root@x";
    Settings cmd_pw;
    cmd_pw.password_file = "/pw";

    EXPECT_EQ(plan_credentials({}).kind, Auth::Kind::none);

    auto p = plan_credentials({layer("~/u", user_cfg)});
    EXPECT_EQ(p.kind, Auth::Kind::basic);
    EXPECT_EQ(p.user, "admin@x");
    EXPECT_EQ(*p.password, "pw");

    // The environment's token beats the user config's user and password.
    p = plan_credentials({layer("environment", env_token), layer("~/u", user_cfg)});
    EXPECT_EQ(p.kind, Auth::Kind::bearer);
    EXPECT_EQ(p.token, "tok");

    // -u on the command line beats the token; the password comes from below.
    p = plan_credentials(
        {layer("command line", cmd_user), layer("environment", env_token), layer("~/u", user_cfg)});
    EXPECT_EQ(p.kind, Auth::Kind::basic);
    EXPECT_EQ(p.user, "root@x");
    EXPECT_EQ(*p.password, "pw");

    // -P alone: the user from the config file, the password file from -P.
    p = plan_credentials({layer("command line", cmd_pw), layer("~/u", user_cfg)});
    EXPECT_EQ(p.user, "admin@x");
    EXPECT_EQ(*p.password_file, "/pw");
    EXPECT_FALSE(p.password);
}

TEST(Credentials, ContradictoryOrIncomplete) {
    Settings both;
    both.token = "t";
    both.user = "u@x";
    EXPECT_NE(cli_error([&] { plan_credentials({layer("environment", both)}); }).find("both"),
              std::string::npos);
    Settings pw_only;
    pw_only.password_file = "/pw";
    EXPECT_NE(
        cli_error([&] { plan_credentials({layer("command line", pw_only)}); }).find("no admin JID"),
        std::string::npos);
}

TEST(PasswordFile, FirstLineOnlyAndPrivateFilesOnly) {
    TempDir dir;
    EXPECT_EQ(read_password_file(dir.write("pw", "s3cret\r\nsecond line\n")), "s3cret");
    EXPECT_EQ(read_password_file(dir.write("pw2", "nonewline")), "nonewline");
    ExitStatus status{};
    EXPECT_NE(cli_error([&] { read_password_file(dir.write("open", "x\n", 0644)); }, &status)
                  .find("chmod 600"),
              std::string::npos);
    EXPECT_EQ(status, ExitStatus::auth);
    EXPECT_NE(cli_error([&] { read_password_file(dir.write("empty", "\n")); }).find("empty"),
              std::string::npos);
    EXPECT_NE(cli_error([&] { read_password_file((dir.path() / "none").string()); }, &status)
                  .find("cannot read password file"),
              std::string::npos);
    EXPECT_EQ(status, ExitStatus::usage);
}

// Whole-program: what reaches the transport.
class ConfigRun : public ::testing::Test {
  protected:
    void SetUp() override {
        h.api.on("status", ok("ok"));
        h.api.on("list_cluster", ok(nlohmann::json::array()));
    }
    std::string user_config(const std::string& text, unsigned mode = 0600) {
        return h.home.write(".config/chatadm/config", text, mode);
    }
    Harness h;
};

TEST_F(ConfigRun, DefaultsWithoutAnyConfig) {
    const auto r = h.run({"status"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(h.api.calls[0].url, "https://localhost:5443/api/status/v0");
    EXPECT_EQ(h.api.options->auth.kind, Auth::Kind::none);
    EXPECT_EQ(h.api.options->timeout_ms, 30000);
    EXPECT_FALSE(h.api.options->insecure);
}

TEST_F(ConfigRun, CommandLineBeatsEnvironmentBeatsUserBeatsSystem) {
    TempDir etc;
    h.system_config = etc.write("chatadm.conf", "host = sys\ntimeout = 7\n", 0644);
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.calls.front().url, "https://sys:5443/api/status/v0");
    EXPECT_EQ(h.api.options->timeout_ms, 7000);

    user_config("host = user\n");
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.calls.front().url, "https://user:5443/api/status/v0");
    EXPECT_EQ(h.api.options->timeout_ms, 7000);  // still from the system file

    h.vars["CHATADM_HOST"] = "env";
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.calls.front().url, "https://env:5443/api/status/v0");

    EXPECT_EQ(h.run({"-h", "cmd:1234", "-T", "3", "status"}).status, 0);
    EXPECT_EQ(h.api.calls.front().url, "https://cmd:1234/api/status/v0");
    EXPECT_EQ(h.api.options->timeout_ms, 3000);
}

TEST_F(ConfigRun, XdgConfigHome) {
    TempDir xdg;
    xdg.write("chatadm/config", "host = xdg\n");
    h.vars["XDG_CONFIG_HOME"] = xdg.path().string();
    user_config("host = home\n");
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.calls.front().url, "https://xdg:5443/api/status/v0");
}

TEST_F(ConfigRun, ExposedSecretIsRefusedWithStatus3AndAdvice) {
    const std::string path = user_config("user = admin@x\npassword = pw\n", 0644);
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(r.err, "chatadm: refusing to use " + path +
                         ": it holds a password but is readable by group and others (mode 0644); "
                         "make it private with: chmod 600 " +
                         path + "\n");
    EXPECT_TRUE(h.api.calls.empty());
}

TEST_F(ConfigRun, ParseErrorIsStatus2WithoutUsage) {
    const std::string path = user_config("host lb\n");
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "chatadm: " + path + ":1: expected 'key = value', got 'host lb'\n");
}

TEST_F(ConfigRun, UnreadableSystemConfigIsSkipped) {
    TempDir etc;
    h.system_config = etc.write("chatadm.conf", "password = x\n", 0600);
    ::chmod(h.system_config.c_str(), 0);
    if (::geteuid() != 0) {
        EXPECT_EQ(h.run({"status"}).status, 0);
        return;
    }
    // Root reads any file: run the check as an unprivileged user instead
    // (nobody), in a child, so the open really fails with EACCES. The test's
    // directories must let nobody reach the file for that.
    ::chmod(h.home.path().c_str(), 0755);
    ::chmod(etc.path().c_str(), 0755);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(100);
        ::_exit(h.run({"status"}).status);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST_F(ConfigRun, CredentialsFromConfigAndPasswordFile) {
    TempDir secrets;
    const std::string pw = secrets.write("pw", "from-file\n");
    user_config("user = admin@x\npassword_file = " + pw + "\n");
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.options->auth.kind, Auth::Kind::basic);
    EXPECT_EQ(h.api.options->auth.user, "admin@x");
    EXPECT_EQ(h.api.options->auth.secret, "from-file");
    EXPECT_TRUE(h.prompts.empty());

    const std::string other = secrets.write("pw2", "from-P\n");
    EXPECT_EQ(h.run({"-P", other, "status"}).status, 0);
    EXPECT_EQ(h.api.options->auth.secret, "from-P");

    h.vars["CHATADM_TOKEN"] = "tok";
    EXPECT_EQ(h.run({"status"}).status, 0);
    EXPECT_EQ(h.api.options->auth.kind, Auth::Kind::bearer);
    EXPECT_EQ(h.api.options->auth.secret, "tok");

    EXPECT_EQ(h.run({"-u", "root@x", "status"}).status, 0);
    EXPECT_EQ(h.api.options->auth.kind, Auth::Kind::basic);
    EXPECT_EQ(h.api.options->auth.user, "root@x");
}

TEST_F(ConfigRun, PromptsOnATerminalWhenNoPasswordIsConfigured) {
    h.typed_password = "typed";
    EXPECT_EQ(h.run({"-u", "admin@x", "status"}).status, 0);
    ASSERT_EQ(h.prompts.size(), 1u);
    EXPECT_EQ(h.prompts[0], "Password for admin@x: ");
    EXPECT_EQ(h.api.options->auth.secret, "typed");
}

TEST_F(ConfigRun, NoTerminalAndNoPasswordIsAClearError) {
    const auto r = h.run({"-u", "admin@x", "status"});
    EXPECT_EQ(r.status, 3);
    EXPECT_NE(r.err.find("no password for admin@x, and no terminal to ask on"), std::string::npos);
    EXPECT_NE(r.err.find("-P"), std::string::npos);
    EXPECT_TRUE(h.api.calls.empty());
}

TEST_F(ConfigRun, InsecureWarnsUnlessQuiet) {
    auto r = h.run({"-k", "status"});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(h.api.options->insecure);
    EXPECT_NE(r.err.find("warning: -k: the server's TLS certificate is not verified"),
              std::string::npos);
    r = h.run({"-qk", "status"});
    EXPECT_EQ(r.err, "");
    user_config("insecure = yes\n");
    r = h.run({"status"});
    EXPECT_NE(r.err.find("warning: insecure in " + h.home.path().string()), std::string::npos);
    r = h.run({"-C", "/ca.pem", "status"});  // -C turns verification back on
    EXPECT_FALSE(h.api.options->insecure);
    EXPECT_EQ(*h.api.options->ca_file, "/ca.pem");
    EXPECT_EQ(r.err, "");
}

TEST_F(ConfigRun, WarnsAboutCredentialsOverPlainHttpToAnotherHost) {
    h.typed_password = "pw";
    auto r = h.run({"-h", "http://lb.example/api", "-u", "a@x", "status"});
    EXPECT_NE(r.err.find("unencrypted"), std::string::npos);
    r = h.run({"-h", "http://127.0.0.1:5280", "-u", "a@x", "status"});
    EXPECT_EQ(r.err, "");
}

TEST_F(ConfigRun, ATokenThatCannotBeOneIsRefused) {
    h.vars["CHATADM_TOKEN"] = "Unhandled exception\n** error";
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("the OAuth token from environment is not a token"), std::string::npos);
    EXPECT_FALSE(h.api.options);
}

TEST_F(ConfigRun, BadHostIsStatus2) {
    const auto r = h.run({"-h", "lb:99999", "status"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("invalid host 'lb:99999'"), std::string::npos);
}

}  // namespace
}  // namespace chatadm
