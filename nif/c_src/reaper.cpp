#include "reaper.hpp"

#include <pthread.h>

#include <utility>

namespace unread::nif {

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
        for (auto& index : batch) {
            index.reset();
            on_freed_();
        }
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
