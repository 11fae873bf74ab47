#include "fake_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace chatadm::test {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return s;
}

int bound_socket(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("bind failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
    const std::string wanted = lower(name) + ":";
    size_t pos = 0;
    while (pos < headers.size()) {
        size_t eol = headers.find("\r\n", pos);
        if (eol == std::string::npos) eol = headers.size();
        const std::string line = headers.substr(pos, eol - pos);
        if (lower(line).rfind(wanted, 0) == 0) {
            size_t start = wanted.size();
            while (start < line.size() && line[start] == ' ') ++start;
            return line.substr(start);
        }
        pos = eol + 2;
    }
    return {};
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = bound_socket(port_);
    if (::listen(listen_fd_, 16) != 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
        throw std::runtime_error("listen failed");
    }
    thread_ = std::thread([this] { serve(); });
}

FakeHttpServer::~FakeHttpServer() {
    const char c = 'x';
    (void)!::write(stop_pipe_[1], &c, 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

std::string FakeHttpServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

void FakeHttpServer::serve() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) return;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        handle(fd);
        ::close(fd);
    }
}

// One request per connection is all the tests need; keep-alive requests
// after the first on the same connection are served in the loop below.
void FakeHttpServer::handle(int fd) {
    std::string buffer;
    for (;;) {
        RecordedRequest req;
        size_t header_end;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
            if (::poll(fds, 2, 5000) <= 0 || fds[1].revents != 0) return;
            char chunk[4096];
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<size_t>(n));
        }
        const std::string head = buffer.substr(0, header_end);
        const size_t first_eol = head.find("\r\n");
        req.request_line = head.substr(0, first_eol);
        req.headers = first_eol == std::string::npos ? "" : head.substr(first_eol + 2);
        const std::string length = req.header("content-length");
        const size_t body_len = length.empty() ? 0 : std::stoul(length);
        buffer.erase(0, header_end + 4);
        while (buffer.size() < body_len) {
            char chunk[4096];
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<size_t>(n));
        }
        req.body = buffer.substr(0, body_len);
        buffer.erase(0, body_len);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(req);
        }
        const std::optional<std::string> answer = handler_(req);
        if (!answer) {
            // Hold the line until the client gives up or the server stops.
            pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
            ::poll(fds, 2, 10000);
            return;
        }
        size_t sent = 0;
        while (sent < answer->size()) {
            const ssize_t n =
                ::send(fd, answer->data() + sent, answer->size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;
            sent += static_cast<size_t>(n);
        }
        if (answer->find("HTTP/1.1") != 0) return;  // garbage replies end the connection
    }
}

std::string http_response(int status, const std::string& body, const std::string& content_type) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int closed_port() {
    int port = 0;
    const int fd = bound_socket(port);
    ::close(fd);  // bound but never listening: connections are refused
    return port;
}

}  // namespace chatadm::test
