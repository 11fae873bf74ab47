// Frees indexes on a thread of its own. An index's memory goes back when the
// VM drops its last reference, from whichever scheduler thread collects it;
// freeing a million messages takes about a third of a second, far too long
// to hold a scheduler (a normal one must not be held for more than about a
// millisecond). After a large index it hands the freed pages back to the
// system (glibc's malloc_trim), or they would stay with the process.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "unread/index.hpp"

namespace unread::nif {

class Reaper {
  public:
    // The thread's name, as top and perf show it (at most 15 characters).
    static constexpr const char* kThreadName = "unread_reaper";

    // on_freed runs on the reaper's thread once for each index freed (and
    // its pages given back).
    explicit Reaper(void (*on_freed)()) noexcept : on_freed_(on_freed) {}
    ~Reaper() { stop(); }
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Hands an index over to be freed; returns at once. If no thread can be
    // started (or the reaper stopped), frees it here rather than keep it.
    void give(std::unique_ptr<Index> index) noexcept;
    // Frees what is left and joins the thread (the library is unloading).
    void stop() noexcept;

  private:
    void run() noexcept;

    void (*on_freed_)();
    std::mutex mu_;
    std::condition_variable wake_;
    std::vector<std::unique_ptr<Index>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace unread::nif
