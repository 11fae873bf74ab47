// A tiny HTTP/1.1 server on loopback for testing the real libcurl transport
// and binary: it records requests and answers with whatever the test says.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chatadm::test {

struct RecordedRequest {
    std::string request_line;
    std::string headers;  // raw, lower-cased names kept as sent
    std::string body;
    std::string header(const std::string& name) const;  // case-insensitive, "" if absent
};

class FakeHttpServer {
  public:
    // Returns the raw bytes to send back, or nullopt to hold the connection
    // open without answering (for timeouts).
    using Handler = std::function<std::optional<std::string>(const RecordedRequest&)>;

    explicit FakeHttpServer(Handler handler);
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path = "/api") const;
    std::vector<RecordedRequest> requests() const;
    // Connections accepted so far.
    int connections() const { return connections_.load(); }

  private:
    void serve();
    void handle(int fd);

    Handler handler_;
    int listen_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    int port_ = 0;
    mutable std::mutex mutex_;
    std::vector<RecordedRequest> requests_;
    std::atomic<int> connections_{0};
    std::thread thread_;
};

// A complete HTTP response.
std::string http_response(int status, const std::string& body,
                          const std::string& content_type = "application/json");

// A loopback port with nothing listening on it.
int closed_port();

}  // namespace chatadm::test
