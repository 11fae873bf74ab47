#include "api/curl_transport.hpp"

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdio>

namespace chatadm {

TransportFailure classify_curl_code(int code) {
    switch (static_cast<CURLcode>(code)) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return TransportFailure::resolve;
        case CURLE_COULDNT_CONNECT:
            return TransportFailure::connect;
        case CURLE_OPERATION_TIMEDOUT:
            return TransportFailure::timeout;
        case CURLE_PEER_FAILED_VERIFICATION:
            return TransportFailure::tls_untrusted;
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CRL_BADFILE:
            return TransportFailure::tls_ca_file;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_USE_SSL_FAILED:
            return TransportFailure::tls_handshake;
        case CURLE_GOT_NOTHING:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_HTTP2:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_PARTIAL_FILE:
            return TransportFailure::bad_reply;
        default:
            return TransportFailure::other;
    }
}

namespace {

// curl_global_init is not thread-safe and must run once before any handle;
// a function-local static gives exactly that, and cleanup at exit.
struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Slist append(Slist list, const std::string& header) {
    curl_slist* raw = curl_slist_append(list.get(), header.c_str());
    if (raw == nullptr) throw std::bad_alloc();
    (void)list.release();  // now owned by raw's chain
    return Slist(raw);
}

size_t collect_body(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

// A string libcurl reports about the last transfer, or "" if it has none.
std::string info_string(CURL* h, CURLINFO what) {
    char* value = nullptr;
    return curl_easy_getinfo(h, what, &value) == CURLE_OK && value != nullptr ? value : "";
}

class CurlTransport final : public Transport {
  public:
    explicit CurlTransport(const TransportOptions& options) : options_(options) {
        static CurlGlobal global;
        handle_.reset(curl_easy_init());
        if (!handle_) throw TransportError(TransportFailure::other, "cannot initialise libcurl");
        CURL* h = handle_.get();
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_.data());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
        // Never follow redirects: a POST with credentials must not wander off;
        // the redirect is reported with its target instead.
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_USERAGENT, "chatadm/" CHATADM_VERSION);
        if (options_.insecure) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (options_.ca_file) {
            curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file->c_str());
        }

        Slist headers;
        headers = append(std::move(headers), "Content-Type: application/json");
        headers = append(std::move(headers), "Accept: application/json");
        // Without this, bodies over 1 KiB wait for "100 Continue", which
        // ejabberd never sends: a one second stall per send.
        headers = append(std::move(headers), "Expect:");
        switch (options_.auth.kind) {
            case Auth::Kind::basic:
                curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
                curl_easy_setopt(h, CURLOPT_USERNAME, options_.auth.user.c_str());
                curl_easy_setopt(h, CURLOPT_PASSWORD, options_.auth.secret.c_str());
                break;
            case Auth::Kind::bearer:
                headers =
                    append(std::move(headers), "Authorization: Bearer " + options_.auth.secret);
                break;
            case Auth::Kind::none:
                break;
        }
        headers_ = std::move(headers);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    }

    HttpResponse post(const std::string& url, const std::string& json_body) override {
        CURL* h = handle_.get();
        HttpResponse response;
        error_[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);

        const auto start = std::chrono::steady_clock::now();
        const CURLcode rc = curl_easy_perform(h);
        const auto elapsed =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (rc != CURLE_OK) {
            std::string detail = error_[0] != '\0' ? error_.data() : curl_easy_strerror(rc);
            while (!detail.empty() && (detail.back() == ' ' || detail.back() == '\n')) {
                detail.pop_back();
            }
            trace(url, "failed: " + detail, elapsed);
            throw TransportError(classify_curl_code(static_cast<int>(rc)), detail);
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
        response.content_type = info_string(h, CURLINFO_CONTENT_TYPE);
        // Where a redirect would lead (never followed: see the constructor).
        response.location = info_string(h, CURLINFO_REDIRECT_URL);
        trace(url, "HTTP " + std::to_string(response.status), elapsed);
        if (options_.verbosity >= 3 && options_.trace != nullptr) {
            *options_.trace << "chatadm:   request " << json_body << "\n"
                            << "chatadm:   reply " << response.body << "\n";
        }
        return response;
    }

  private:
    void trace(const std::string& url, const std::string& outcome, double ms) const {
        if (options_.verbosity < 2 || options_.trace == nullptr) return;
        char timing[32];
        std::snprintf(timing, sizeof timing, "%.1f ms", ms);
        *options_.trace << "chatadm: POST " << url << ": " << outcome << " (" << timing << ")\n";
    }

    TransportOptions options_;
    EasyHandle handle_;
    Slist headers_;
    std::array<char, CURL_ERROR_SIZE> error_{};
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options) {
    return std::make_unique<CurlTransport>(options);
}

}  // namespace chatadm
