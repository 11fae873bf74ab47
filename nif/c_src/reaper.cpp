#include "reaper.hpp"

#include <pthread.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <utility>

namespace unread::nif {

namespace {

// glibc keeps what is freed in the arena of the thread that allocated it,
// for that arena's next allocations, and gives back to the system only
// what lies at an arena's top. An index is built on whichever dirty
// scheduler ran the rebuild, so after a few rebuilds each arena holds a
// freed index's worth of pages: measured, a node whose live index of a
// million messages was 170 MB stayed at 5.3 GB resident after repeated
// rebuilds, and at 0.6 GB after a malloc_trim. Small indexes (tests,
// scratch indexes) are not worth the walk of every arena.
constexpr std::size_t kTrimAfterBytes = 16u << 20;

void give_back_to_system(std::size_t freed) noexcept {
#ifdef __GLIBC__
    if (freed >= kTrimAfterBytes) malloc_trim(0);
#else
    (void)freed;
#endif
}

}  // namespace

void Reaper::give(std::unique_ptr<Index> index) noexcept {
    if (!index) return;
    {
        std::unique_lock lock(mu_);
        try {
            if (!stopping_) {
                if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
                queue_.push_back(std::move(index));
            }
        } catch (...) {
            // No thread or no room in the queue: freed below, on this thread.
        }
    }
    if (index) {
        index.reset();
        on_freed_();
        return;
    }
    wake_.notify_one();
}

void Reaper::run() noexcept {
    // Its own name: a thread inherits its creator's, and under top or perf
    // the freeing would otherwise be counted as a scheduler's work.
    pthread_setname_np(pthread_self(), kThreadName);
    std::unique_lock lock(mu_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to free
        std::vector<std::unique_ptr<Index>> batch;
        batch.swap(queue_);
        lock.unlock();
        std::size_t freed = 0;
        for (auto& index : batch) {
            freed += index->memory_bytes();
            index.reset();
        }
        give_back_to_system(freed);
        for (std::size_t i = 0; i < batch.size(); ++i) on_freed_();
        lock.lock();
    }
}

void Reaper::stop() noexcept {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

}  // namespace unread::nif
