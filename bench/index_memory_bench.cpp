// Memory of the index core at scale, measured by the allocator itself
// (mallinfo2) beside what the index reports (Index::memory_bytes), for the
// shape of bench/run.py: USERS users x PER_USER messages, from SENDERS
// senders per user (default 1: one (sender, user) pair of the sender view
// per user; SENDERS = PER_USER: one pair per message).
//
//   build/bench/index_memory_bench [users] [per_user] [preview_chars] [senders]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "unread/index.hpp"

namespace {

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t users = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    const std::size_t per_user = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10;
    const std::size_t preview = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64;
    const std::size_t senders = argc > 4 ? std::max(1ul, std::strtoul(argv[4], nullptr, 10)) : 1;

    const std::size_t before = heap_in_use();
    std::size_t preview_bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    {
        unread::Index index;
        for (std::size_t u = 0; u < users; ++u) {
            const std::string user = "user" + std::to_string(u);
            for (std::size_t m = 0; m < per_user; ++m) {
                unread::MessageHeader h;
                h.id = static_cast<std::int64_t>(1'700'000'000'000'000 + u * 1000 + m);
                h.key = m;
                h.from = senders == 1 ? std::string("sender@example.com")
                                      : "sender" + std::to_string(m % senders) + "@example.com";
                h.type = unread::MessageType::chat;
                std::string body = "benchmark message number " + std::to_string(m);
                h.preview = body.substr(0, preview);
                preview_bytes += h.preview.size();
                index.insert(user, std::move(h));
            }
        }
        const auto t1 = std::chrono::steady_clock::now();
        const double messages = static_cast<double>(index.total());
        const std::size_t measured = heap_in_use() - before;
        const std::size_t reported = index.memory_bytes();
        std::printf("messages %.0f users %zu\n", messages, static_cast<std::size_t>(index.users()));
        std::printf("insert_ns_per_message %.1f\n",
                    std::chrono::duration<double, std::nano>(t1 - t0).count() / messages);
        std::printf("malloc_bytes_per_message %.1f\n", static_cast<double>(measured) / messages);
        std::printf("reported_bytes_per_message %.1f\n", static_cast<double>(reported) / messages);
        std::printf("preview_bytes_per_message %.1f\n",
                    static_cast<double>(preview_bytes) / messages);
        std::printf("malloc_bytes_per_message_excluding_preview %.1f\n",
                    static_cast<double>(measured - preview_bytes) / messages);
    }
    std::printf("heap_bytes_left_after_destruction %zu\n", heap_in_use() - before);
    return 0;
}
