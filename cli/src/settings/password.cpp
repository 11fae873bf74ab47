#include "settings/password.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include "errors.hpp"
#include "fd.hpp"
#include "settings/config.hpp"

namespace chatadm {

namespace {

// Reads up to the first newline (or end of input); stops there so that a
// password piped on stdin leaves the rest of stdin alone.
std::string read_line(int fd) {
    std::string line;
    char c;
    for (;;) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') break;
        line += c;
        if (line.size() > 4096) break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Signal handlers cannot reach RAII objects, so the terminal state to restore
// lives here while echo is off.
volatile sig_atomic_t g_tty_fd = -1;
struct termios g_saved_termios;

extern "C" void restore_tty_and_reraise(int sig) {
    if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_termios);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

class EchoOff {
  public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) return;
        g_saved_termios = saved_;
        g_tty_fd = fd_;
        struct sigaction sa {};
        sa.sa_handler = restore_tty_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < std::size(signals_); ++i) {
            ::sigaction(signals_[i], &sa, &old_actions_[i]);
        }
        struct termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff() {
        if (g_tty_fd < 0) return;
        if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
        for (size_t i = 0; i < std::size(signals_); ++i) {
            ::sigaction(signals_[i], &old_actions_[i], nullptr);
        }
        g_tty_fd = -1;
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

  private:
    static constexpr int signals_[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
    int fd_;
    bool active_ = false;
    struct termios saved_ {};
    struct sigaction old_actions_[std::size(signals_)]{};
};

}  // namespace

std::string read_password_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw CliError(ExitStatus::usage,
                       "cannot read password file " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
        if (auto problem = exposed_secret_problem(path, st.st_mode, "a password")) {
            throw CliError(ExitStatus::auth, *problem);
        }
    }
    std::string password = read_line(fd.get());
    if (password.empty()) {
        throw CliError(ExitStatus::usage, "password file " + path + " is empty");
    }
    return password;
}

std::optional<std::string> prompt_password_on_tty(const std::string& prompt) {
    Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (tty.get() < 0 || !::isatty(tty.get())) return std::nullopt;
    if (::write(tty.get(), prompt.data(), prompt.size()) < 0) return std::nullopt;
    std::string password;
    {
        EchoOff echo_off(tty.get());
        password = read_line(tty.get());
    }
    return password;
}

}  // namespace chatadm
