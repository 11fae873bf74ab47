// One shard of an Index: a slice of the users, under its own lock.
#pragma once

#include <cstddef>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "user_queue.hpp"

namespace unread {

class Shard {
  public:
    struct Rank {
        std::size_t count;
        std::string_view user;  // points at the key in `users`
    };
    // Ascending, so reverse iteration yields the largest counts first and,
    // among equal counts, names in ascending order.
    struct RankOrder {
        bool operator()(const Rank& a, const Rank& b) const noexcept {
            return a.count < b.count || (a.count == b.count && a.user > b.user);
        }
    };
    using Users = std::unordered_map<std::string, UserQueue, StringHash, std::equal_to<>>;

    // Runs f(queue, user_key) on the user's queue (created if needed) with
    // the lock held exclusively, then keeps ranking, totals and byte counts
    // in step and drops the queue if it became empty. f hands `view` to the
    // queue's changes. Returns f's result.
    template <class F>
    auto update(std::string_view user, F&& f);

    mutable std::shared_mutex mu;
    Users users;
    std::set<Rank, RankOrder> ranking;
    std::size_t messages = 0;
    std::size_t bytes = 0;  // queues' bytes plus user nodes, ranking excluded
    SenderView view;

    // Bytes of all nodes this shard holds, ranking and bucket array included.
    std::size_t all_bytes() const noexcept;
    // Drops a user with its counts; the caller holds the lock exclusively.
    void erase_user(Users::iterator it);

  private:
    static std::size_t user_node_bytes(const std::string& user) noexcept;
    static std::size_t rank_node_bytes() noexcept;
};

}  // namespace unread

#include "shard_inl.hpp"
