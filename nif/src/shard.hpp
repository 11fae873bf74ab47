// One shard of an Index: a slice of the users, under its own lock.
#pragma once

#include <cstddef>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

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

    // The sender view: for each sender, the users holding its messages.
    // Users are named by the address of their key in `users` (stable while
    // the user exists, and a user leaves only once its queue is empty, so
    // after every sender let go of it): a pointer hashes faster and is
    // smaller than a copy of the name.
    struct SenderUsers {
        std::size_t messages = 0;
        std::unordered_map<const std::string*, std::size_t> users;
    };
    using Senders = std::unordered_map<std::string, SenderUsers, StringHash, std::equal_to<>>;
    // Domain -> the keys in `senders` of its senders, for "@domain" queries.
    using Domains = std::unordered_map<std::string, std::unordered_set<const std::string*>,
                                       StringHash, std::equal_to<>>;

    // Runs f(queue, user_key) on the user's queue (created if needed) with
    // the lock held exclusively, then keeps ranking, totals and byte counts
    // in step and drops the queue if it became empty. f reports every change
    // of a sender's count to note_sender. Returns f's result.
    template <class F>
    auto update(std::string_view user, F&& f);

    // Moves the view by `delta` messages of `sender` for the user whose key
    // in `users` is `user`; the caller holds the lock exclusively. Called
    // before the queue lets go of the sender's name (it may be the only copy
    // the caller has).
    void note_sender(std::string_view sender, const std::string& user, std::ptrdiff_t delta);
    // The domain part of a sender's bare JID ("lserver" for a server's JID).
    static std::string_view domain_of(std::string_view sender) noexcept;

    mutable std::shared_mutex mu;
    Users users;
    std::set<Rank, RankOrder> ranking;
    std::size_t messages = 0;
    std::size_t bytes = 0;  // queues' bytes plus user nodes, ranking excluded
    Senders senders;
    Domains domains;
    std::size_t view_bytes = 0;  // senders' and domains' nodes and buckets

    // Bytes of all nodes this shard holds, ranking and bucket array included.
    std::size_t all_bytes() const noexcept;
    // Drops a user with its counts; the caller holds the lock exclusively.
    void erase_user(Users::iterator it);

  private:
    static std::size_t user_node_bytes(const std::string& user) noexcept;
    static std::size_t rank_node_bytes() noexcept;
    template <class Map>
    static std::size_t buckets_bytes(const Map& m) noexcept;
};

}  // namespace unread

#include "shard_inl.hpp"
