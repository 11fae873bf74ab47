// The reaper gives a freed index's pages back to the system. Measured in
// the process's resident size, so it is built without sanitizers only:
// their allocators are not glibc's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "reaper.hpp"
#include "unread/index.hpp"

namespace unread {
namespace {

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

MessageHeader msg(std::int64_t id) {
    MessageHeader h;
    h.id = id;
    h.key = static_cast<std::uint64_t>(id);
    h.from = "sender" + std::to_string(id % 100) + "@example.com";
    h.preview = "a preview long enough to live on the heap, as a body's start";
    return h;
}

void freed() {}

TEST(ReaperMemory, GivesALargeIndexsPagesBackToTheSystem) {
    // Built on a thread of its own, as a rebuild runs on a dirty scheduler,
    // with a second, small index growing beside it, as the live index does
    // during a rebuild: its blocks stay at the arena's top, so glibc cannot
    // give the big one's pages back by shrinking the arena.
    std::unique_ptr<Index> big;
    std::unique_ptr<Index> small;
    std::thread([&] {
        big = std::make_unique<Index>(16);
        small = std::make_unique<Index>(1);
        for (std::int64_t i = 0; i < 300'000; ++i) {
            big->insert("user" + std::to_string(i % 30'000), msg(i));
            if (i % 500 == 0) small->insert("pin", msg(i));
        }
    }).join();
    const std::size_t bytes = big->memory_bytes();
    ASSERT_GE(bytes, std::size_t{32} << 20);
    const std::size_t before = resident_bytes();
    {
        nif::Reaper reaper(freed);
        reaper.give(std::move(big));
        reaper.stop();  // joins: the index is freed by now
    }
    const std::size_t after = resident_bytes();
    EXPECT_GE(before - std::min(before, after), bytes / 2)
        << "resident " << before << " -> " << after << " bytes after freeing an index of " << bytes;
    EXPECT_EQ(small->total(), 600u);
}

}  // namespace
}  // namespace unread
